"""Tests for the CCHC ontology, its SHACL shapes and the competency queries."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from cchc.ontology import (
    CCHC,
    DCTERMS,
    DOCTYPE,
    ELI,
    FIELD,
    ONTOLOGY_IRI,
    ONTOLOGY_PATH,
    ORG,
    README_PATH,
    SH,
    SHAPES_PATH,
    SKOS,
    TIME,
    IRIs,
    field_concept,
    instrument_class,
    instrument_type_concept,
    load_ontology,
    load_shapes,
    slug,
    validate,
)
from cchc.ontology.competency import competency_queries, competency_questions
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.plugins.sparql import prepareQuery

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"

# Terms the graph builder uses verbatim.
BUILDER_CLASSES = ["Task", "Citation", "SourceSpan"]
BUILDER_PROPERTIES = [
    "span",
    "inDocument",
    "startLine",
    "endLine",
    "mentions",
    "citedBy",
    "cites",
    "partOf",
    "appendixOf",
    "implements",
    "basedOn",
    "replaces",
    "amends",
    "leadAgency",
    "cooperatingAgency",
    "deadline",
    "field",
    "hasTarget",
    "successorOf",
    "continues",
    "sectionNumber",
    "sectionTitle",
    "rowNumber",
    "content",
    "product",
    "timelineText",
    "recurrence",
    "statedIssuer",
    "statedDate",
    "statedTitle",
    "surface",
    "numbered",
]
REQUIRED_CLASSES = [
    "Document",
    "Plan",
    "Appendix",
    "LegalInstrument",
    "Luat",
    "NghiQuyet",
    "NghiDinh",
    "QuyetDinh",
    "ThongTu",
    "ChiThi",
    "KeHoach",
    "KetLuan",
    "CongVan",
    "DeAn",
    "ChuongTrinh",
    "ChienLuoc",
    "QuyDinh",
    "HuongDan",
    "ThongBao",
    "Task",
    "Target",
    "Agency",
    "AgencyGroup",
    "Deadline",
    "Citation",
    "SourceSpan",
    "Unit",
    "RestructuringEvent",
    "CarryOver",
]
REQUIRED_PROPERTIES = [*BUILDER_PROPERTIES, "tracesTo", "involvedAgency", "targetValue", "targetUnit", "comparator"]
INSTRUMENT_TYPES = [
    "Luat",
    "NghiQuyet",
    "NghiDinh",
    "QuyetDinh",
    "ThongTu",
    "ChiThi",
    "KeHoach",
    "KetLuan",
    "CongVan",
    "DeAn",
    "ChuongTrinh",
    "ChienLuoc",
    "QuyDinh",
    "HuongDan",
    "ThongBao",
]
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
DECLARATION_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


# ---------------------------------------------------------------------------
#  A tiny graph following the IRI scheme and the provenance model
# ---------------------------------------------------------------------------

FIXTURE = """
@base <https://w3id.org/cchc/> .
@prefix cchc:    <https://w3id.org/cchc/ontology#> .
@prefix field:   <https://w3id.org/cchc/field/> .
@prefix doctype: <https://w3id.org/cchc/doctype/> .
@prefix eli:     <http://data.europa.eu/eli/ontology#> .
@prefix org:     <http://www.w3.org/ns/org#> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix time:    <http://www.w3.org/2006/time#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .

# --- documents ---------------------------------------------------------------
<doc/langson-2026-cchc-phuluc> a cchc:Appendix ;
    dcterms:identifier "langson-2026-cchc-phuluc" ;
    dcterms:title "Phụ lục nhiệm vụ, giải pháp CCHC năm 2026"@vi ;
    cchc:appendixOf <instrument/29-kh-ubnd> .
<doc/langson-2023-cchc-phuluc> a cchc:Appendix ;
    dcterms:identifier "langson-2023-cchc-phuluc" .
<doc/langson-2026-2030-cchc> a cchc:Plan ;
    dcterms:identifier "langson-2026-2030-cchc" ;
    cchc:implements <instrument/76-nq-cp> ;
    cchc:hasTarget <target/langson-2026-2030-cchc/L63-1> .

# --- instruments -------------------------------------------------------------
<instrument/29-kh-ubnd> a cchc:KeHoach ;
    dcterms:identifier "29/KH-UBND" ; eli:number "29" ; cchc:symbol "KH-UBND" ;
    eli:type_document doctype:ke-hoach ; cchc:numbered true .
<instrument/118-2025-nd-cp> a cchc:NghiDinh ;
    dcterms:identifier "118/2025/NĐ-CP" ; eli:number "118" ; cchc:symbol "NĐ-CP" ;
    eli:type_document doctype:nghi-dinh ; cchc:numbered true ;
    eli:passed_by <agency/chinh-phu> ; cchc:statedIssuer "Chính phủ" .
<instrument/76-nq-cp> a cchc:NghiQuyet ;
    dcterms:identifier "76/NQ-CP" ; eli:number "76" ; cchc:symbol "NQ-CP" ;
    eli:type_document doctype:nghi-quyet ; cchc:numbered true ;
    cchc:statedIssuer "Chính phủ" ;
    cchc:statedDate "2021-07-15"^^xsd:date , "2021-07-16"^^xsd:date .

# --- agencies ----------------------------------------------------------------
<agency/chinh-phu> a cchc:Agency ; skos:prefLabel "Chính phủ"@vi .
<agency/so-tu-phap> a cchc:Agency ; skos:prefLabel "Sở Tư pháp"@vi ; dcterms:identifier "so-tu-phap" .
<agency/cac-so-ban-nganh> a cchc:AgencyGroup ; skos:prefLabel "Các sở, ban, ngành"@vi .
<agency/so-tttt> a cchc:Agency ; skos:prefLabel "Sở Thông tin và Truyền thông"@vi ;
    org:changedBy <event/2025-so-khcn> .
<agency/so-khcn> a cchc:Agency ; skos:prefLabel "Sở Khoa học và Công nghệ"@vi ;
    cchc:successorOf <agency/so-tttt> ; org:resultedFrom <event/2025-so-khcn> .
<event/2025-so-khcn> a cchc:RestructuringEvent ;
    org:originalOrganization <agency/so-tttt> ; org:resultingOrganization <agency/so-khcn> ;
    cchc:changeKind "merger" ; dcterms:date "2025-03-01"^^xsd:date .

# --- deadlines ---------------------------------------------------------------
<deadline/quy-i-2026> a cchc:Deadline ; cchc:timelineText "Quý I/2026" ; cchc:precision "quarter" ;
    time:hasBeginning <instant/2026-01-01> ; time:hasEnd <instant/2026-03-31> .
<deadline/quy-iv-2026> a cchc:Deadline ; cchc:timelineText "Quý IV/2026" ; cchc:precision "quarter" ;
    time:hasBeginning <instant/2026-10-01> ; time:hasEnd <instant/2026-12-31> .
<deadline/thuong-xuyen> a cchc:Deadline ; cchc:timelineText "Thường xuyên" ; cchc:recurrence "continuous" .
<instant/2026-01-01> a time:Instant ; time:inXSDDate "2026-01-01"^^xsd:date .
<instant/2026-03-31> a time:Instant ; time:inXSDDate "2026-03-31"^^xsd:date .
<instant/2026-10-01> a time:Instant ; time:inXSDDate "2026-10-01"^^xsd:date .
<instant/2026-12-31> a time:Instant ; time:inXSDDate "2026-12-31"^^xsd:date .

# --- 2026 task III-9: cites NĐ 118/2025/NĐ-CP ---------------------------------
<task/langson-2026-cchc-phuluc/III-9> a cchc:Task ;
    cchc:partOf <doc/langson-2026-cchc-phuluc> ;
    cchc:sectionNumber "III" ; cchc:sectionTitle "CẢI CÁCH THỦ TỤC HÀNH CHÍNH" ; cchc:rowNumber "9" ;
    cchc:content "Thực hiện tiếp nhận, giải quyết TTHC theo quy định tại Nghị định số 118/2025/NĐ-CP" ;
    cchc:product "Báo cáo" ;
    cchc:leadText "Sở Tư pháp" ; cchc:leadAgency <agency/so-tu-phap> ;
    cchc:cooperatingText "Các sở, ban, ngành" ; cchc:cooperatingAgency <agency/cac-so-ban-nganh> ;
    cchc:timelineText "Quý I/2026" ; cchc:deadline <deadline/quy-i-2026> ;
    cchc:field field:thu-tuc-hanh-chinh ; cchc:sourceKind "table" ;
    cchc:cites <instrument/118-2025-nd-cp> ;
    cchc:span <span/langson-2026-cchc-phuluc/L840-852> ;
    prov:wasDerivedFrom <doc/langson-2026-cchc-phuluc> .
<span/langson-2026-cchc-phuluc/L840-852> a cchc:SourceSpan ;
    cchc:inDocument <doc/langson-2026-cchc-phuluc> ; cchc:startLine 840 ; cchc:endLine 852 .
<citation/langson-2026-cchc-phuluc/L847-1> a cchc:Citation ;
    cchc:citedBy <task/langson-2026-cchc-phuluc/III-9> ;
    cchc:mentions <instrument/118-2025-nd-cp> ;
    cchc:surface "Nghị định số 118/2025/NĐ-CP" ; cchc:statedType "Nghị định" ;
    cchc:statedIssuer "Chính phủ" ; cchc:issuerSource "code" ; cchc:numbered true ;
    cchc:span <span/langson-2026-cchc-phuluc/L847-847> ;
    prov:wasDerivedFrom <doc/langson-2026-cchc-phuluc> .
<span/langson-2026-cchc-phuluc/L847-847> a cchc:SourceSpan ;
    cchc:inDocument <doc/langson-2026-cchc-phuluc> ; cchc:startLine 847 ; cchc:endLine 847 .

# --- 2026 task VII-3 (led by the successor) continues 2023 task VII-2 ---------
<task/langson-2026-cchc-phuluc/VII-3> a cchc:Task ;
    cchc:partOf <doc/langson-2026-cchc-phuluc> ;
    cchc:sectionNumber "VII" ; cchc:rowNumber "3" ;
    cchc:content "Tiếp tục triển khai Chương trình tổng thể CCHC theo Nghị quyết số 76/NQ-CP" ;
    cchc:leadAgency <agency/so-khcn> ; cchc:deadline <deadline/quy-iv-2026> ;
    cchc:field field:chinh-quyen-so ;
    cchc:cites <instrument/76-nq-cp> ;
    cchc:continues <task/langson-2023-cchc-phuluc/VII-2> ;
    cchc:span <span/langson-2026-cchc-phuluc/L1430-1436> ;
    prov:wasDerivedFrom <doc/langson-2026-cchc-phuluc> .
<span/langson-2026-cchc-phuluc/L1430-1436> a cchc:SourceSpan ;
    cchc:inDocument <doc/langson-2026-cchc-phuluc> ; cchc:startLine 1430 ; cchc:endLine 1436 .
<citation/langson-2026-cchc-phuluc/L1431-1> a cchc:Citation ;
    cchc:citedBy <task/langson-2026-cchc-phuluc/VII-3> ; cchc:mentions <instrument/76-nq-cp> ;
    cchc:surface "Nghị quyết số 76/NQ-CP" ;
    cchc:span <span/langson-2026-cchc-phuluc/L1431-1431> ;
    prov:wasDerivedFrom <doc/langson-2026-cchc-phuluc> .
<span/langson-2026-cchc-phuluc/L1431-1431> a cchc:SourceSpan ;
    cchc:inDocument <doc/langson-2026-cchc-phuluc> ; cchc:startLine 1431 ; cchc:endLine 1431 .

<task/langson-2023-cchc-phuluc/VII-2> a cchc:Task ;
    cchc:partOf <doc/langson-2023-cchc-phuluc> ;
    cchc:sectionNumber "VII" ; cchc:rowNumber "2" ;
    cchc:content "Triển khai Nghị quyết số 76/NQ-CP ngày 16/7/2021 về chính quyền số" ;
    cchc:leadAgency <agency/so-tttt> ; cchc:deadline <deadline/thuong-xuyen> ;
    cchc:field field:chinh-quyen-so ;
    cchc:cites <instrument/76-nq-cp> ;
    cchc:span <span/langson-2023-cchc-phuluc/L1480-1484> ;
    prov:wasDerivedFrom <doc/langson-2023-cchc-phuluc> .
<span/langson-2023-cchc-phuluc/L1480-1484> a cchc:SourceSpan ;
    cchc:inDocument <doc/langson-2023-cchc-phuluc> ; cchc:startLine 1480 ; cchc:endLine 1484 .
<citation/langson-2023-cchc-phuluc/L1481-1> a cchc:Citation ;
    cchc:citedBy <task/langson-2023-cchc-phuluc/VII-2> ; cchc:mentions <instrument/76-nq-cp> ;
    cchc:surface "Nghị quyết số 76/NQ-CP ngày 16/7/2021" ; cchc:statedDate "2021-07-16"^^xsd:date ;
    cchc:span <span/langson-2023-cchc-phuluc/L1481-1481> ;
    prov:wasDerivedFrom <doc/langson-2023-cchc-phuluc> .
<span/langson-2023-cchc-phuluc/L1481-1481> a cchc:SourceSpan ;
    cchc:inDocument <doc/langson-2023-cchc-phuluc> ; cchc:startLine 1481 ; cchc:endLine 1481 .

<carryover/langson-2026-cchc-phuluc/VII-3/langson-2023-cchc-phuluc/VII-2> a cchc:CarryOver ;
    cchc:laterTask <task/langson-2026-cchc-phuluc/VII-3> ;
    cchc:earlierTask <task/langson-2023-cchc-phuluc/VII-2> ;
    cchc:score 0.82 ; cchc:reason "starts with Tiếp tục" , "same instrument 76/NQ-CP" .

# --- narrative plan: preamble citation, a unit and a target ----------------
<citation/langson-2026-2030-cchc/L11-1> a cchc:Citation ;
    cchc:citedBy <doc/langson-2026-2030-cchc> ; cchc:mentions <instrument/76-nq-cp> ;
    cchc:citationRole cchc:implements ;
    cchc:surface "Nghị quyết số 76/NQ-CP ngày 15/7/2021 của Chính phủ" ;
    cchc:statedIssuer "Chính phủ" ; cchc:statedDate "2021-07-15"^^xsd:date ; cchc:issuerSource "text" ;
    cchc:span <span/langson-2026-2030-cchc/L11-11> ;
    prov:wasDerivedFrom <doc/langson-2026-2030-cchc> .
<span/langson-2026-2030-cchc/L11-11> a cchc:SourceSpan ;
    cchc:inDocument <doc/langson-2026-2030-cchc> ; cchc:startLine 11 ; cchc:endLine 11 .

<unit/langson-2026-2030-cchc/L55> a cchc:Unit ;
    cchc:partOf <doc/langson-2026-2030-cchc> ;
    cchc:marker "2.2." ; cchc:level 2 ; cchc:isHeading true ;
    cchc:content "Cải cách thủ tục hành chính (TTHC)" ;
    cchc:headingPath "II. MỤC TIÊU > 2. Chỉ tiêu cụ thể" ;
    cchc:field field:thu-tuc-hanh-chinh ;
    cchc:span <span/langson-2026-2030-cchc/L55-55> ;
    prov:wasDerivedFrom <doc/langson-2026-2030-cchc> .
<span/langson-2026-2030-cchc/L55-55> a cchc:SourceSpan ;
    cchc:inDocument <doc/langson-2026-2030-cchc> ; cchc:startLine 55 ; cchc:endLine 55 .

<target/langson-2026-2030-cchc/L63-1> a cchc:Target ;
    cchc:partOf <doc/langson-2026-2030-cchc> ;
    cchc:content "95% người dân, doanh nghiệp đánh giá hài lòng khi sử dụng dịch vụ công trực tuyến." ;
    cchc:targetValue 95.0 ; cchc:targetUnit "%" ; cchc:comparator ">=" ; cchc:targetYear "2026-2027" ;
    cchc:field field:thu-tuc-hanh-chinh ;
    cchc:span <span/langson-2026-2030-cchc/L63-63> ;
    prov:wasDerivedFrom <doc/langson-2026-2030-cchc> .
<span/langson-2026-2030-cchc/L63-63> a cchc:SourceSpan ;
    cchc:inDocument <doc/langson-2026-2030-cchc> ; cchc:startLine 63 ; cchc:endLine 63 .
"""

BASE = "https://w3id.org/cchc/"
TASK_III_9 = URIRef(BASE + "task/langson-2026-cchc-phuluc/III-9")
TASK_VII_3 = URIRef(BASE + "task/langson-2026-cchc-phuluc/VII-3")
TASK_2023 = URIRef(BASE + "task/langson-2023-cchc-phuluc/VII-2")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology()


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


def fixture_graph() -> Graph:
    return Graph().parse(data=FIXTURE, format="turtle")


def messages(report: Graph) -> list[tuple[str, str]]:
    """(focus node, message) of every validation result."""
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        for message in report.objects(result, SH.resultMessage):
            out.append((str(focus), str(message)))
    return out


# ---------------------------------------------------------------------------
#  Ontology
# ---------------------------------------------------------------------------


def test_files_are_package_resources():
    for path in (ONTOLOGY_PATH, SHAPES_PATH, README_PATH):
        assert path.is_file(), path
        text = path.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), f"{path} is not NFC"


def test_ontology_parses_with_header(ontology):
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY_IRI, OWL.versionInfo) is not None
    assert ontology.value(ONTOLOGY_IRI, DCTERMS.license) is not None
    for predicate in (DCTERMS.title, DCTERMS.description):
        langs = {o.language for o in ontology.objects(ONTOLOGY_IRI, predicate)}
        assert {"vi", "en"} <= langs, predicate
    # the file also parses on its own with plain rdflib
    assert len(Graph().parse(data=ONTOLOGY_PATH.read_text(encoding="utf-8"), format="turtle")) == len(ontology)


def test_every_class_and_property_has_vi_and_en_label_and_comment(ontology):
    declared = {s for t in DECLARATION_TYPES for s in ontology.subjects(RDF.type, t) if isinstance(s, URIRef)}
    assert len(declared) > 100
    missing = []
    for term in sorted(declared):
        for predicate in (RDFS.label, RDFS.comment):
            langs = {getattr(o, "language", None) for o in ontology.objects(term, predicate)}
            for lang in ("vi", "en"):
                if lang not in langs:
                    missing.append(f"{ontology.qname(term)} {ontology.qname(predicate)}@{lang}")
    assert not missing, missing


def test_builder_and_required_terms_are_declared(ontology):
    for name in REQUIRED_CLASSES:
        assert (CCHC[name], RDF.type, OWL.Class) in ontology, name
    for name in REQUIRED_PROPERTIES:
        types = set(ontology.objects(CCHC[name], RDF.type))
        assert types & {OWL.ObjectProperty, OWL.DatatypeProperty}, name
    for name in INSTRUMENT_TYPES:
        assert (CCHC[name], RDFS.subClassOf, CCHC.LegalInstrument) in ontology, name
    # every cchc: term used in the ontology's own axioms is declared
    declared = {s for t in DECLARATION_TYPES for s in ontology.subjects(RDF.type, t)}
    declared |= {CCHC.fields, CCHC.instrumentTypes}
    used = {o for o in ontology.objects() if isinstance(o, URIRef) and str(o).startswith(str(CCHC))}
    assert used <= declared, used - declared


def test_alignments(ontology):
    sub = [
        (CCHC.LegalInstrument, RDFS.subClassOf, ELI.LegalResource),
        (CCHC.Agency, RDFS.subClassOf, ORG.Organization),
        (CCHC.Deadline, RDFS.subClassOf, TIME.Interval),
        (CCHC.RestructuringEvent, RDFS.subClassOf, ORG.ChangeEvent),
        (CCHC.Plan, RDFS.subClassOf, CCHC.Document),
        (CCHC.Appendix, RDFS.subClassOf, CCHC.Document),
        (CCHC.cites, RDFS.subPropertyOf, ELI.cites),
        (CCHC.cites, RDFS.subPropertyOf, CCHC.tracesTo),
        (CCHC.implements, RDFS.subPropertyOf, CCHC.tracesTo),
        (CCHC.basedOn, RDFS.subPropertyOf, ELI.based_on),
        (CCHC.replaces, RDFS.subPropertyOf, DCTERMS.replaces),
        (CCHC.amends, RDFS.subPropertyOf, ELI.amends),
        (CCHC.partOf, RDFS.subPropertyOf, DCTERMS.isPartOf),
        (CCHC.leadAgency, RDFS.subPropertyOf, CCHC.involvedAgency),
        (CCHC.cooperatingAgency, RDFS.subPropertyOf, CCHC.involvedAgency),
        (CCHC.continuedBy, OWL.inverseOf, CCHC.continues),
        (CCHC.startLine, RDFS.range, XSD_INTEGER),
        (CCHC.endLine, RDFS.range, XSD_INTEGER),
    ]
    for triple in sub:
        assert triple in ontology, triple


def test_field_scheme(ontology):
    concepts = set(ontology.subjects(SKOS.inScheme, CCHC.fields))
    assert len(concepts) == 7
    assert all(str(c).startswith(str(FIELD)) for c in concepts)
    assert set(ontology.objects(CCHC.fields, SKOS.hasTopConcept)) == concepts
    for concept in concepts:
        langs = [o.language for o in ontology.objects(concept, SKOS.prefLabel)]
        assert sorted(langs) == ["en", "vi"], concept
        assert any(o.language == "vi" for o in ontology.objects(concept, SKOS.altLabel)), concept


def appendix_section_lines() -> list[str]:
    lines = []
    for path in sorted(CORPUS.glob("*phuluc*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = unicodedata.normalize("NFC", line).strip()
            if re.match(r"^(I|II|III|IV|V|VI|VII|VIII|IX|X)\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ]", line):
                lines.append(" ".join(line.split()))
    return lines


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not present")
def test_appendix_section_titles_map_to_fields(ontology):
    lines = appendix_section_lines()
    assert len(lines) == 14  # I..VII in both appendices
    hits = {line: field_concept(line) for line in lines}
    assert all(hits.values()), [line for line, c in hits.items() if c is None]
    assert set(hits.values()) == set(ontology.subjects(SKOS.inScheme, CCHC.fields))
    # the uppercase section titles are altLabels verbatim
    alt = {str(o) for o in ontology.objects(None, SKOS.altLabel)}
    for line in lines:
        assert line.split(" ", 1)[1].strip() in alt, line


def test_field_concept_on_narrative_headings():
    assert field_concept("2.6. Xây dựng và phát triển Chính quyền điện tử, Chính quyền số:") == FIELD["chinh-quyen-so"]
    assert field_concept("3.2. Cải cách thủ tục hành chính (TTHC)") == FIELD["thu-tuc-hanh-chinh"]
    assert field_concept("4. Cải cách tổ chức bộ máy hành chính") == FIELD["to-chuc-bo-may"]
    heading = "1. Công tác chỉ đạo, điều hành, thông tin tuyên truyền và kiểm tra"
    assert field_concept(heading) == FIELD["chi-dao-dieu-hanh"]
    assert field_concept("II. MỤC TIÊU") is None
    assert field_concept("") is None


def test_instrument_types(ontology):
    assert instrument_class("Nghị định") == CCHC.NghiDinh
    assert instrument_class("Kế hoạch hành động") == CCHC.KeHoach
    assert instrument_class("Thông tư liên tịch") == CCHC.ThongTuLienTich
    assert instrument_class("Quy định") == CCHC.QuyDinh
    assert instrument_class("Quyết định") == CCHC.QuyetDinh
    assert instrument_class(None) == CCHC.LegalInstrument
    assert instrument_class("Tờ trình") == CCHC.LegalInstrument
    assert instrument_type_concept("Nghị quyết") == DOCTYPE["nghi-quyet"]
    assert instrument_type_concept("???") is None
    # every doctype concept points at a class with the same Vietnamese name
    for concept in ontology.subjects(SKOS.inScheme, CCHC.instrumentTypes):
        cls = ontology.value(concept, RDFS.seeAlso)
        assert (cls, RDFS.subClassOf, None) in ontology, concept
        vi = {str(o) for o in ontology.objects(concept, SKOS.prefLabel) if o.language == "vi"}
        assert vi == {str(o) for o in ontology.objects(cls, RDFS.label) if o.language == "vi"}
        assert instrument_class(vi.pop()) == cls


def test_iri_scheme():
    iris = IRIs()
    assert str(iris.doc("langson-2026-cchc-phuluc")) == BASE + "doc/langson-2026-cchc-phuluc"
    assert iris.task("langson-2026-cchc-phuluc", "III", "9") == TASK_III_9
    assert str(iris.task("langson-2026-2030-cchc", line=123)) == BASE + "task/langson-2026-2030-cchc/L123"
    assert str(iris.instrument("118/2025/NĐ-CP")) == BASE + "instrument/118-2025-nd-cp"
    assert str(iris.instrument("60-NQ/TU")) == BASE + "instrument/60-nq-tu"
    assert str(iris.agency("so-tu-phap")) == BASE + "agency/so-tu-phap"
    assert str(iris.citation("langson-2026-cchc-phuluc", 847, 1)) == BASE + "citation/langson-2026-cchc-phuluc/L847-1"
    assert str(iris.span("langson-2026-cchc-phuluc", 840, 852)) == BASE + "span/langson-2026-cchc-phuluc/L840-852"
    assert str(iris.deadline("Quý I/2026")) == BASE + "deadline/quy-i-2026"
    assert str(iris.instant("2026-03-31")) == BASE + "instant/2026-03-31"
    assert iris.field("the-che") == FIELD["the-che"]
    assert iris.doctype("Nghị định") == DOCTYPE["nghi-dinh"]
    assert str(iris.carry_over(TASK_VII_3, TASK_2023)) == (
        BASE + "carryover/langson-2026-cchc-phuluc/VII-3/langson-2023-cchc-phuluc/VII-2"
    )
    other = IRIs("http://example.org/kg")
    assert str(other.doc("x")) == "http://example.org/kg/doc/x"
    assert other.field("the-che") == FIELD["the-che"]  # vocabulary does not move
    assert slug("Luật Ngân sách nhà nước") == "luat-ngan-sach-nha-nuoc"
    with pytest.raises(ValueError):
        slug(" / ")
    with pytest.raises(ValueError):
        iris.task("x")


def test_import_needs_neither_torch_nor_pyshacl():
    code = (
        "import sys, cchc.ontology as o; o.load_ontology(); o.competency.competency_queries();"
        "bad = [m for m in ('torch', 'pyshacl', 'sentence_transformers') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", "import cchc.ontology.competency;" + code], check=True)


# ---------------------------------------------------------------------------
#  SHACL
# ---------------------------------------------------------------------------


def test_shapes_parse_and_target_the_model(shapes):
    targets = set(shapes.objects(None, SH.targetClass))
    for name in ("Task", "Citation", "LegalInstrument", "Agency", "SourceSpan", "Deadline", "Target", "Unit"):
        assert CCHC[name] in targets, name
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        assert (shape, SH.targetClass, None) in shapes, shape
    # every message is an untagged (English) literal
    messages_ = list(shapes.objects(None, SH.message))
    assert len(messages_) > 50
    for message in messages_:
        assert isinstance(message, Literal) and message.language is None, message


def known_terms(ontology: Graph) -> set[str]:
    terms = {str(s) for t in DECLARATION_TYPES for s in ontology.subjects(RDF.type, t)}
    return terms | {str(CCHC.fields), str(CCHC.instrumentTypes)}


def test_shapes_and_readme_only_use_declared_cchc_terms(ontology, shapes):
    known = known_terms(ontology)
    used = {str(t) for triple in shapes for t in triple if isinstance(t, URIRef) and str(t).startswith(str(CCHC))}
    text = "\n".join(str(o) for o in shapes.objects(None, SH.select))
    text += README_PATH.read_text(encoding="utf-8")
    used |= {str(CCHC) + name for name in re.findall(r"\bcchc:([A-Za-z]+)\b(?!\*)", text)}
    assert used <= known, sorted(used - known)


def test_shape_vocabularies_match_the_ontology(ontology, shapes):
    def in_lists(path):
        lists = []
        for prop in shapes.subjects(SH.path, path):
            head = shapes.value(prop, SH["in"])
            if head is not None:
                lists.append(set(Collection(shapes, head)))
        return lists

    fields = set(ontology.subjects(SKOS.inScheme, CCHC.fields))
    assert in_lists(CCHC.field) and all(values == fields for values in in_lists(CCHC.field))
    types = set(ontology.subjects(SKOS.inScheme, CCHC.instrumentTypes))
    assert in_lists(ELI.type_document) == [types]


def test_conforming_graph_validates_and_shapes_are_valid_shacl():
    conforms, _report, text = validate(fixture_graph(), meta_shacl=True)
    assert conforms, text


def without(graph: Graph, *triples) -> Graph:
    for triple in triples:
        assert triple in graph or triple[2] is None, triple
        graph.remove(triple)
    return graph


def test_task_without_span_fails():
    data = without(fixture_graph(), (TASK_III_9, CCHC.span, None))
    conforms, report, _ = validate(data)
    assert not conforms
    expected = "A Task must have at least one cchc:span pointing to a cchc:SourceSpan."
    assert (str(TASK_III_9), expected) in messages(report)


def test_span_lines_out_of_order_fail():
    data = fixture_graph()
    span = URIRef(BASE + "span/langson-2026-cchc-phuluc/L847-847")
    data.set((span, CCHC.startLine, Literal(848)))
    conforms, report, _ = validate(data)
    assert not conforms
    assert (str(span), "SourceSpan startLine 848 is after endLine 847.") in messages(report)


def test_span_in_another_document_fails():
    data = fixture_graph()
    span = URIRef(BASE + "span/langson-2026-cchc-phuluc/L840-852")
    data.set((span, CCHC.inDocument, URIRef(BASE + "doc/langson-2023-cchc-phuluc")))
    conforms, report, _ = validate(data)
    assert not conforms
    assert any(
        focus == str(TASK_III_9) and "not among its prov:wasDerivedFrom" in msg for focus, msg in messages(report)
    )


def test_cites_without_citation_node_fails():
    citation = URIRef(BASE + "citation/langson-2026-cchc-phuluc/L847-1")
    data = fixture_graph()
    for triple in list(data.triples((citation, None, None))):
        data.remove(triple)
    conforms, report, _ = validate(data)
    assert not conforms
    assert any(focus == str(TASK_III_9) and "has no cchc:Citation evidence" in msg for focus, msg in messages(report))


def test_citation_role_needs_its_shortcut_triple():
    plan = URIRef(BASE + "doc/langson-2026-2030-cchc")
    data = without(fixture_graph(), (plan, CCHC.implements, URIRef(BASE + "instrument/76-nq-cp")))
    conforms, report, _ = validate(data)
    assert not conforms
    assert any("shortcut triple" in msg for _, msg in messages(report))


def test_citation_cardinalities():
    citation = URIRef(BASE + "citation/langson-2026-cchc-phuluc/L847-1")
    data = fixture_graph()
    data.add((citation, CCHC.mentions, URIRef(BASE + "instrument/76-nq-cp")))
    data.remove((citation, CCHC.surface, None))
    conforms, report, _ = validate(data)
    assert not conforms
    got = {msg for focus, msg in messages(report) if focus == str(citation)}
    assert "A Citation must cchc:mentions exactly one cchc:LegalInstrument." in got
    assert "A Citation must have exactly one non-empty cchc:surface (xsd:string)." in got


def test_continues_without_carry_over_fails():
    data = fixture_graph()
    carry = URIRef(BASE + "carryover/langson-2026-cchc-phuluc/VII-3/langson-2023-cchc-phuluc/VII-2")
    for triple in list(data.triples((carry, None, None))):
        data.remove(triple)
    conforms, report, _ = validate(data)
    assert not conforms
    assert any(focus == str(TASK_VII_3) and "cchc:CarryOver" in msg for focus, msg in messages(report))


def test_wrong_lead_agency_and_instrument_identifier_fail():
    data = fixture_graph()
    data.set((TASK_III_9, CCHC.leadAgency, URIRef(BASE + "deadline/quy-i-2026")))
    data.remove((URIRef(BASE + "instrument/29-kh-ubnd"), DCTERMS.identifier, None))
    conforms, report, _ = validate(data)
    assert not conforms
    got = {msg for _, msg in messages(report)}
    assert "cchc:leadAgency must be a cchc:Agency or a cchc:AgencyGroup." in got
    assert any(m.startswith("A LegalInstrument needs exactly one dcterms:identifier") for m in got)


def test_agency_needs_a_name_and_instants_a_date():
    data = fixture_graph()
    data.remove((URIRef(BASE + "agency/so-tu-phap"), None, Literal("Sở Tư pháp", lang="vi")))
    data.set((URIRef(BASE + "instant/2026-03-31"), TIME.inXSDDate, Literal("2026-03-31")))
    conforms, report, _ = validate(data)
    assert not conforms
    got = {msg for _, msg in messages(report)}
    assert "An Agency or AgencyGroup needs a name: at least one skos:prefLabel or rdfs:label." in got
    assert "A time:Instant needs exactly one time:inXSDDate (xsd:date)." in got


# ---------------------------------------------------------------------------
#  Competency questions
# ---------------------------------------------------------------------------


def test_competency_queries_parse():
    questions = competency_questions()
    assert 8 <= len(questions) <= 10
    assert [q.id for q in questions] == [f"CQ{i}" for i in range(1, len(questions) + 1)]
    for q in questions:
        assert q.question.endswith("?"), q
        prepareQuery(q.query)
    assert list(competency_queries()) == [q.id for q in questions]


def test_competency_parser_rejects_missing_block():
    with pytest.raises(ValueError):
        competency_queries("### CQ1: No query?\n\ntext\n\n### CQ2: x?\n```sparql\nASK {}\n```\n")
    assert competency_queries("# T\n### CQ1: q?\n```sparql\nASK {}\n```\n## Other\n```sparql\nASK {}\n```\n") == {
        "CQ1": "ASK {}\n"
    }


@pytest.fixture(scope="module")
def answers() -> dict[str, list[dict[str, str]]]:
    graph = fixture_graph() + load_ontology()
    out = {}
    for cq, query in competency_queries().items():
        rows = []
        for row in graph.query(query):
            rows.append({str(k): (None if v is None else str(v)) for k, v in row.asdict().items()})
        out[cq] = rows
    return out


def test_cq1_tasks_citing_nd_118(answers):
    rows = answers["CQ1"]
    assert [r["task"] for r in rows] == [str(TASK_III_9)]
    assert rows[0]["surface"] == "Nghị định số 118/2025/NĐ-CP" and rows[0]["startLine"] == "847"


def test_cq2_tasks_led_by_so_tu_phap(answers):
    assert [r["task"] for r in answers["CQ2"]] == [str(TASK_III_9)]


def test_cq3_instruments_cited_by_both_appendices(answers):
    assert [r["id"] for r in answers["CQ3"]] == ["76/NQ-CP"]


def test_cq4_documents_implementing_nq_76(answers):
    assert [(r["stem"], r["how"]) for r in answers["CQ4"]] == [("langson-2026-2030-cchc", "direct")]


def test_cq5_successor_and_its_tasks(answers):
    rows = answers["CQ5"]
    assert {r["successorName"] for r in rows} == {"Sở Khoa học và Công nghệ"}
    assert {r["task"] for r in rows} == {str(TASK_VII_3)}


def test_cq6_tasks_due_in_q1_2026(answers):
    assert [r["task"] for r in answers["CQ6"]] == [str(TASK_III_9)]


def test_cq7_tasks_per_field(answers):
    counts = {(r["doc"], r["fieldLabel"]): int(r["tasks"]) for r in answers["CQ7"]}
    assert counts == {
        ("langson-2026-cchc-phuluc", "Cải cách thủ tục hành chính"): 1,
        ("langson-2026-cchc-phuluc", "Xây dựng và phát triển Chính quyền điện tử, Chính quyền số"): 1,
        ("langson-2023-cchc-phuluc", "Xây dựng và phát triển Chính quyền điện tử, Chính quyền số"): 1,
    }


def test_cq8_source_lines_of_a_task(answers):
    assert [(r["doc"], r["startLine"], r["endLine"]) for r in answers["CQ8"]] == [
        ("langson-2026-cchc-phuluc", "840", "852")
    ]


def test_cq9_conflicting_metadata(answers):
    rows = answers["CQ9"]
    assert {r["id"] for r in rows} == {"76/NQ-CP"}
    assert {(r["value"], r["doc"]) for r in rows} == {
        ("2021-07-15", "langson-2026-2030-cchc"),
        ("2021-07-16", "langson-2023-cchc-phuluc"),
    }


def test_cq10_carry_over(answers):
    (row,) = answers["CQ10"]
    assert (row["task"], row["earlier"]) == (str(TASK_VII_3), str(TASK_2023))
    assert float(row["score"]) == pytest.approx(0.82)
    assert set(row["reasons"].split("; ")) == {"starts with Tiếp tục", "same instrument 76/NQ-CP"}


def test_readme_documents_the_model():
    text = README_PATH.read_text(encoding="utf-8")
    for heading in ("## Model", "## IRI scheme", "## Provenance model", "## Competency questions"):
        assert heading in text, heading
    assert "```mermaid" in text
    for name in BUILDER_CLASSES + BUILDER_PROPERTIES:
        assert f"cchc:{name}" in text, name


def test_competency_queries_agree_on_oxigraph(answers):
    ox = pytest.importorskip("pyoxigraph")
    store = ox.Store()
    store.load(FIXTURE.encode("utf-8"), ox.RdfFormat.TURTLE, base_iri=BASE)
    store.load(load_ontology().serialize(format="nt").encode("utf-8"), ox.RdfFormat.N_TRIPLES)
    for cq, query in competency_queries().items():
        assert len(list(store.query(query))) == len(answers[cq]), cq
