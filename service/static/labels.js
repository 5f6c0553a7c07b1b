// Vietnamese wording for the API's machine words (relations, reasons, kinds).
// The raw string stays available as a tooltip, so nothing is hidden.

const RELATIONS = {
  cites: "trích dẫn",
  partOf: "thuộc",
  appendixOf: "là phụ lục của",
  implements: "triển khai",
  basedOn: "căn cứ",
  replaces: "thay thế",
  amends: "sửa đổi",
  mentions: "nhắc đến",
};

export const LINK_KINDS = {
  cites: "trích dẫn trực tiếp",
  "via-plan": "qua kế hoạch",
  "via-instrument": "qua văn bản khác",
};

export const SUCCESSION = {
  merge: "hợp nhất",
  rename: "đổi tên",
  split: "tách",
  abolish: "giải thể",
};

export const AGENCY_KINDS = {
  committee: "Ủy ban nhân dân",
  council: "Hội đồng nhân dân",
  office: "Văn phòng",
  department: "Sở, ban, ngành",
  inspectorate: "Thanh tra",
  police: "Công an",
  media: "Báo chí, truyền thông",
  portal: "Cổng thông tin",
  "service-center": "Trung tâm phục vụ hành chính công",
  "public-service-unit": "Đơn vị sự nghiệp",
  "central-agency": "Cơ quan trung ương",
  party: "Cơ quan Đảng",
  front: "Mặt trận, đoàn thể",
  school: "Trường học",
  association: "Hiệp hội",
  enterprise: "Doanh nghiệp",
  hospital: "Bệnh viện",
  division: "Phòng, ban chuyên môn",
  mixed: "Nhóm cơ quan",
};

// Prefixes of search `why` and carry-over `reasons` strings.
const PREFIXES = [
  [/^cites /, "trích dẫn "],
  [/^lead: /, "chủ trì: "],
  [/^cooperating: /, "phối hợp: "],
  [/^mentions /, "nhắc đến "],
  [/^plan of /, "kế hoạch năm "],
  [/^field: /, "lĩnh vực: "],
  [/^same field: /, "cùng lĩnh vực: "],
  [/^same lead: /, "cùng cơ quan chủ trì: "],
  [/^lead /, "chủ trì "],
  [/^shared citation /, "cùng trích dẫn "],
  [/^same instrument /, "cùng văn bản "],
  [/^replaced instrument /, "văn bản được thay thế "],
  [/^text /, "độ giống nội dung "],
  [/^deadline /, "thời hạn "],
];

const EXACT = {
  bm25: "khớp từ khóa",
  dense: "gần nghĩa",
  "split: the earlier task continues in several": "tách: nhiệm vụ trước tiếp tục ở nhiều nhiệm vụ",
  "merge: several earlier tasks continue here": "gộp: nhiều nhiệm vụ trước tiếp tục ở đây",
};

/** CCHC field ids ("the-che") -> their Vietnamese labels, filled from /fields when the page starts. */
export const FIELD_LABELS = {};

export function setFieldLabels(rows) {
  for (const f of rows || []) if (f.id && f.label) FIELD_LABELS[f.id] = f.label;
}

export function fieldLabel(id) {
  return FIELD_LABELS[id] || id;
}

/** The conflicting statements of an instrument page ("type", "issuer", ...). */
export const CONFLICT_FIELDS = { type: "Loại văn bản", issuer: "Cơ quan ban hành", date: "Ngày ban hành", title: "Trích yếu" };

const WORDS = [
  [/\b(successor) of\b/g, "kế nhiệm của"],
  [/\bpredecessor of\b/g, "tiền thân của"],
  [/\ba group including\b/g, "nhóm gồm"],
  [/\bone of\b/g, "một trong"],
  [/\(shared by (\d+)\)/g, "(chung với $1 nhiệm vụ)"],
  [/^product /, "sản phẩm "],
  [/^field (\S+) → (\S+)/, (_, a, b) => `lĩnh vực ${fieldLabel(a)} → ${fieldLabel(b)}`],
  [/(lĩnh vực: )(\S+)$/, (_, p, id) => `${p}${fieldLabel(id)}`],
  [/\bmentions\b/g, "nhắc đến"],
  [/\bpartOf\b/g, "thuộc"],
  [/\bappendixOf\b/g, "là phụ lục của"],
  [/\bimplements\b/g, "triển khai"],
  [/\bbasedOn\b/g, "căn cứ"],
  [/\breplaces\b/g, "thay thế"],
  [/\bamends\b/g, "sửa đổi"],
  [/\bcites\b/g, "trích dẫn"],
  [/ -> /g, " → "],
  [/\(standing duty\)/g, "(thường xuyên)"],
  [/\bnames a date within the period\b/g, "có ngày trong khoảng thời gian"],
  [/\bfalls due within the period\b/g, "đến hạn trong khoảng thời gian"],
  [/\bwithin the period\b/g, "trong khoảng thời gian"],
  [/\boverlaps the period\b/g, "giao với khoảng thời gian"],
  [/\((merge|rename|split|abolish)\b/g, (_, k) => `(${SUCCESSION[k]}`],
  [/\(successor by split\b/g, "(kế nhiệm do tách"],
  [/\(successor\b/g, "(kế nhiệm"],
  [/\(predecessor\b/g, "(tiền thân"],
];

export const CARRY_LINKS = {
  "one-to-one": "một – một",
  split: "tách thành nhiều nhiệm vụ",
  merge: "gộp từ nhiều nhiệm vụ",
};

/** A `why` or `reasons` string in Vietnamese ("cites 118/2025/NĐ-CP" -> "trích dẫn 118/2025/NĐ-CP"). */
export function reason(text) {
  const raw = String(text);
  if (EXACT[raw]) return EXACT[raw];
  let out = raw;
  for (const [re, vi] of PREFIXES) {
    if (re.test(out)) {
      out = out.replace(re, vi);
      break;
    }
  }
  for (const [re, vi] of WORDS) out = out.replace(re, vi);
  return out;
}

export function relation(rel) {
  return RELATIONS[rel] || rel || "";
}

/** "Mục III, STT 9" for a table row, else the line. */
export function taskPlace(section, no, line) {
  if (section && no) return `Mục ${section}, STT ${no}`;
  if (no) return `STT ${no}`;
  return line ? `Dòng ${line}` : "";
}

export function score(value) {
  return value === null || value === undefined ? "" : Number(value).toFixed(2);
}
