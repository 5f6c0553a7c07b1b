"""Matplotlib pictures of the analysis tables, with Vietnamese text that renders.

Matplotlib falls back silently, glyph by glyph, when a font lacks a character,
so "Sở Khoa học và Công nghệ" can come out with boxes for "ở" and "ệ" and no
error.  `use_vietnamese_font` therefore picks a font whose character map
holds every Vietnamese letter (DejaVu Sans, bundled with matplotlib, does)
before anything is drawn, and `save_figure` writes PNGs atomically so a
half-written picture never replaces a good one.

The drawing helpers take an `Axes` and the plain tables of `analysis.py`;
they choose layout and colours, never numbers.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import networkx as nx
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PREFERRED_FONTS", "VIETNAMESE_LETTERS", "bar_chart", "carryover_chart", "citation_layout", "draw_chain",
    "draw_citation_network", "font_covers", "save_figure", "use_vietnamese_font", "vietnamese_font", "wrap",
]

log = logging.getLogger(__name__)

# Every letter with a Vietnamese diacritic, both cases: a font must have them all.
_LOWER = ("aàảãáạăằẳẵắặâầẩẫấậeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợuùủũúụưừửữứựyỳỷỹýỵđ")
VIETNAMESE_LETTERS = _LOWER + _LOWER.upper()
PREFERRED_FONTS = ("DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial")
PALETTE = ("#2f6f9f", "#e0893a", "#5a9e4b", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c", "#17becf",
           "#bcbd22")


def font_covers(path: str | Path, text: str = VIETNAMESE_LETTERS) -> bool:
    """Whether the font file maps every character of `text` to a glyph."""
    charmap = FT2Font(str(path)).get_charmap()
    return all(ord(c) in charmap for c in set(text) if not c.isspace())


def vietnamese_font(preferred: Sequence[str] = PREFERRED_FONTS) -> str:
    """The first installed family of `preferred`, else of all fonts, that covers Vietnamese."""
    for name in preferred:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
        except ValueError:
            continue
        if font_covers(path):
            return name
    for entry in font_manager.fontManager.ttflist:
        if entry.fname.lower().endswith((".ttf", ".otf")) and font_covers(entry.fname):
            return entry.name
    raise RuntimeError("no installed font has glyphs for every Vietnamese letter; install fonts-dejavu")


def use_vietnamese_font(preferred: Sequence[str] = PREFERRED_FONTS) -> str:
    """Make matplotlib draw text in a font with Vietnamese glyphs; returns the family chosen."""
    name = vietnamese_font(preferred)
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [name, *(f for f in matplotlib.rcParams["font.sans-serif"] if f != name)]
    matplotlib.rcParams["svg.fonttype"] = "none"
    log.info("matplotlib font: %s", name)
    return name


def save_figure(fig: Figure, directory: str | Path, name: str, *, dpi: int = 100) -> Path:
    """Write `fig` as `<directory>/<name>.png` (temporary file, then rename); the path written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.png"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".png", dir=out)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a picture is for anyone who reads the checkout
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("wrote %s (%d bytes)", target, target.stat().st_size)
    return target


def wrap(text: str, width: int = 28) -> str:
    """Break long labels on spaces; line breaks already in the text stay."""
    return "\n".join("\n".join(textwrap.wrap(line, width)) or line for line in text.split("\n"))


def bar_chart(ax: Axes, categories: Sequence[str], series: Mapping[str, Sequence[float]], *, stacked: bool = False,
              horizontal: bool = False, colors: Sequence[str] = PALETTE, totals: bool = True,
              label_width: int = 28) -> Axes:
    """Grouped (or stacked) bars: one bar group per category, one bar (or segment) per series."""
    names = list(series)
    n = len(categories)
    width = 0.8 if stacked else 0.8 / max(len(names), 1)
    base = [0.0] * n
    for k, name in enumerate(names):
        values = list(series[name])
        pos = list(range(n)) if stacked else [i - 0.4 + width * (k + 0.5) for i in range(n)]
        color = colors[k % len(colors)]
        if horizontal:
            bars = ax.barh(pos, values, height=width, left=base if stacked else None, color=color, label=name)
        else:
            bars = ax.bar(pos, values, width=width, bottom=base if stacked else None, color=color, label=name)
        if not stacked and totals:
            ax.bar_label(bars, labels=[str(int(v)) if v else "" for v in values], padding=2, fontsize=8)
        if stacked:
            base = [b + v for b, v in zip(base, values, strict=True)]
    if stacked and totals:
        for i, total in enumerate(base):
            if total:
                ax.annotate(str(int(total)), (total, i) if horizontal else (i, total), xytext=(3, 0) if horizontal
                            else (0, 3), textcoords="offset points", ha="left" if horizontal else "center",
                            va="center" if horizontal else "bottom", fontsize=9, fontweight="bold")
    ticks = [wrap(c, label_width) for c in categories]
    if horizontal:
        ax.set_yticks(range(n), ticks)
        ax.invert_yaxis()
        ax.margins(x=0.08)
    else:
        ax.set_xticks(range(n), ticks)
        ax.margins(y=0.08)
    ax.spines[["top", "right"]].set_visible(False)
    if len(names) > 1:
        ax.legend(frameon=False)
    return ax


def carryover_chart(ax: Axes, rows: Sequence[Mapping[str, Any]], labels: Mapping[str, str], *,
                    earlier: str = "2023", later: str = "2026", label_width: int = 16) -> Axes:
    """Per field, two stacked bars: the earlier plan's tasks (continued | dropped), the later's (carried | new)."""
    n = len(rows)
    w = 0.38
    xe = [i - w / 2 - 0.01 for i in range(n)]
    xl = [i + w / 2 + 0.01 for i in range(n)]
    cont = [r["continued"] for r in rows]
    drop = [r["dropped"] for r in rows]
    carr = [r["carried"] for r in rows]
    new = [r["new"] for r in rows]
    ax.bar(xe, cont, w, color=PALETTE[0], label=f"{earlier}: được tiếp tục")
    ax.bar(xe, drop, w, bottom=cont, color="#a9c4dc", label=f"{earlier}: không tiếp tục", hatch="//",
           edgecolor="white")
    ax.bar(xl, carr, w, color=PALETTE[1], label=f"{later}: kế thừa từ {earlier}")
    ax.bar(xl, new, w, bottom=carr, color="#f3c9a0", label=f"{later}: nhiệm vụ mới", hatch="..", edgecolor="white")
    for xs, lo, hi in ((xe, cont, drop), (xl, carr, new)):
        for x, a, b in zip(xs, lo, hi, strict=True):
            if a:
                ax.text(x, a / 2, str(a), ha="center", va="center", color="white", fontsize=9, fontweight="bold")
            if b:
                ax.text(x, a + b / 2, str(b), ha="center", va="center", fontsize=9)
    ax.set_xticks([*xe, *xl], [earlier] * n + [later] * n, minor=True, fontsize=7, color="#555555")
    ax.set_xticks(range(n), [wrap(labels.get(r["field"], r["field"]), label_width) for r in rows], fontsize=8)
    ax.tick_params(axis="x", which="major", pad=14, length=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("số nhiệm vụ")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8)
    return ax


def _short_doc(label: str, width: int = 30) -> str:
    return wrap(label, width)


def _owners(g: nx.DiGraph, n: str, docs: Mapping[str, Any], files: Mapping[str, str]) -> frozenset[str]:
    """The documents a node hangs from: those citing it, its own (a task), else those reaching it via instruments."""
    direct = {u for u in g.predecessors(n) if u in docs}
    if g.nodes[n].get("kind") in ("task", "unit") and g.nodes[n].get("doc") in files:
        direct.add(files[g.nodes[n]["doc"]])
    if not direct:
        near = nx.single_source_shortest_path_length(g.to_undirected(as_view=True), n, cutoff=3)
        direct = {d for d in near if d in docs}
    return frozenset(direct)


def citation_layout(g: nx.DiGraph, *, fan: float = 0.42, spacing: float = 0.075) -> dict[str, tuple[float, float]]:
    """Documents on a ring; what one document alone cites fans out behind it; shared nodes stack between citers.

    Deterministic and built for labels: instruments cited by the same set of
    documents form one column at the centre of those documents (pulled
    inwards), one per line, so their ids can be read; a free spring layout
    piles them on one spot.
    """
    docs = sorted(n for n, a in g.nodes(data=True) if a.get("kind") == "document")
    angle = {d: math.pi / 2 + 2 * math.pi * i / max(len(docs), 1) for i, d in enumerate(docs)}
    pos: dict[str, tuple[float, float]] = {d: (math.cos(a), math.sin(a)) for d, a in angle.items()}
    files = {g.nodes[d].get("doc"): d for d in docs}
    groups: dict[frozenset[str], list[str]] = {}
    for n in g:
        if n not in pos:
            groups.setdefault(_owners(g, n, angle, files), []).append(n)
    columns: list[tuple[float, float]] = []
    heights: list[float] = []
    for owner, nodes in sorted(groups.items(), key=lambda kv: (len(kv[0]), sorted(kv[0]))):
        nodes.sort(key=lambda n: str(g.nodes[n].get("id") or g.nodes[n].get("label") or n))
        if len(owner) == 1:
            d = next(iter(owner))
            width = min(math.radians(170), math.radians(18) * len(nodes))
            for i, n in enumerate(nodes):
                a = angle[d] + (width * (i / (len(nodes) - 1) - 0.5) if len(nodes) > 1 else 0.0)
                r = fan * (1.0 if i % 2 == 0 or len(nodes) < 10 else 1.3)
                pos[n] = (pos[d][0] + r * math.cos(a), pos[d][1] + r * math.sin(a))
            continue
        if owner:
            cx = 0.6 * sum(pos[d][0] for d in owner) / len(owner)
            cy = 0.6 * sum(pos[d][1] for d in owner) / len(owner)
        else:
            cx, cy = 0.0, 0.0
        height = spacing * (len(nodes) - 1)
        while any(abs(cx - x) < 0.5 and abs(cy - y) < (height + h) / 2 + spacing
                  for (x, y), h in zip(columns, heights, strict=True)):
            cy -= spacing  # a label column is about half a unit wide: move down until it is clear
        columns.append((cx, cy))
        heights.append(height)
        for i, n in enumerate(nodes):
            pos[n] = (cx, cy + height / 2 - spacing * i)
    return pos


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,") + "…"


def draw_citation_network(ax: Axes, g: nx.DiGraph, *, label_min_degree: int = 2,
                          type_colors: Mapping[str, str] | None = None) -> dict[str, tuple[float, float]]:
    """Documents (titled boxes) and instruments (dots coloured by type, sized by citers); the layout used.

    Instruments with at least `label_min_degree` citing nodes are labelled with
    their id, the others left as dots so the picture stays readable.
    """
    pos = citation_layout(g)
    docs = [n for n, a in g.nodes(data=True) if a.get("kind") == "document"]
    tasks = [n for n, a in g.nodes(data=True) if a.get("kind") == "task"]
    insts = [n for n, a in g.nodes(data=True) if a.get("kind") == "instrument"]
    types = sorted({g.nodes[n].get("type") or "khác" for n in insts}, key=lambda t: (-sum(
        1 for n in insts if (g.nodes[n].get("type") or "khác") == t), t))
    colors = dict(type_colors or {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(types)})
    nx.draw_networkx_edges(g, pos, ax=ax, edge_color="#b8b8b8", width=[0.6 + 0.4 * min(d.get("weight", 1), 5)
                                                                          for _, _, d in g.edges(data=True)],
                           arrows=True, arrowsize=7, node_size=50)
    if tasks:
        nx.draw_networkx_nodes(g, pos, nodelist=tasks, ax=ax, node_size=12, node_color="#999999", label="nhiệm vụ")
    for t in types:
        nodes = [n for n in insts if (g.nodes[n].get("type") or "khác") == t]
        nx.draw_networkx_nodes(g, pos, nodelist=nodes, ax=ax, node_color=colors[t], label=t,
                               node_size=[30 + 35 * g.in_degree(n) for n in nodes])
    for n in insts:
        if g.in_degree(n) >= label_min_degree:
            ax.annotate(_short(g.nodes[n]["id"]), pos[n], xytext=(7, 0), textcoords="offset points", ha="left",
                        va="center", fontsize=7.5, zorder=6,
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
    for n in docs:
        ax.annotate(_short_doc(g.nodes[n].get("label", n), 26), pos[n], ha="center", va="center", fontsize=8,
                    fontweight="bold", color="white", zorder=5,
                    bbox={"boxstyle": "round,pad=0.35", "fc": "#222222", "ec": "#222222"})
    ax.scatter([], [], marker="s", color="#222222", label="văn bản trong kho")
    ax.legend(loc="lower left", fontsize=8, frameon=False, markerscale=0.8)
    ax.margins(0.05)
    ax.set_axis_off()
    return pos


def draw_chain(ax: Axes, tree: nx.DiGraph, *, label_width: int = 34) -> dict[str, tuple[float, float]]:
    """The trace tree left to right: the instrument, the plans it reaches the tasks through, task groups."""
    layers: dict[int, list[str]] = {}
    for n, a in tree.nodes(data=True):
        layers.setdefault(a["layer"], []).append(n)
    order: dict[str, float] = {}
    pos: dict[str, tuple[float, float]] = {}
    for layer in sorted(layers, reverse=True):  # leaves first, parents centred over their children
        nodes = layers[layer]
        if layer == max(layers):
            nodes.sort(key=lambda n: (tree.nodes[n].get("doc", ""), n))
            for i, n in enumerate(nodes):
                order[n] = -i
        else:
            for n in nodes:
                kids = [order[c] for c in tree.predecessors(n) if c in order]
                order[n] = sum(kids) / len(kids) if kids else 0.0
        for n in nodes:
            pos[n] = (float(layer), order[n])
    for u, v, d in tree.edges(data=True):
        (x0, y0), (x1, y1) = pos[u], pos[v]
        ax.annotate("", (x1 + 0.1, y1), (x0 - 0.05, y0),
                    arrowprops={"arrowstyle": "-|>", "color": "#888888", "lw": 0.8,
                                "connectionstyle": "arc3,rad=0"})
        if tree.nodes[v].get("layer") == 0:  # say how each branch reaches the instrument, near it
            ax.text(x1 + 0.35 * (x0 - x1), y1 + 0.35 * (y0 - y1), d.get("relation", ""), fontsize=8,
                    color="#555555", ha="center", va="bottom", style="italic",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"})
    for n, a in tree.nodes(data=True):
        x, y = pos[n]
        kind = a.get("kind")
        if kind in ("tasks", "units"):
            text = f"{a['count']} {a['what']}" + (f" · {wrap(a['label'], label_width)}" if a.get("label") else "")
            ax.text(x, y, text, ha="left", va="center", fontsize=8,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "#fdf1e4" if kind == "tasks" else "#eeeeee",
                          "ec": "#e0893a" if kind == "tasks" else "#999999"})
        else:
            ax.text(x, y, wrap(a.get("label") or n, label_width), ha="center", va="center", fontsize=9,
                    fontweight="bold", color="white",
                    bbox={"boxstyle": "round,pad=0.35", "fc": "#2f6f9f" if kind == "instrument" else "#333333"})
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 1.6)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    return pos
