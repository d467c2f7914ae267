"""Build the bundled sample sources of the Kenya node from the definitions in this file.

Writes:
  samples/ke-moe-oai.xml   an OAI-PMH static repository (oai_dc for every record, the native `pops`
                           format for the records marked pops=True, two deleted records)
  samples/iso/*.xml        ISO 19139 (gmd:MD_Metadata) dataset records

samples/ke-data-dcat.ttl is written by hand and is not produced here.
The committed files are the source of truth; this script is kept so they can be regenerated after an
edit to the definitions below. Rerun from the project root with

    .venv/bin/python samples/build_samples.py          # write the files, then check them
    .venv/bin/python samples/build_samples.py --check  # only check the committed files

The check parses every file (lxml, rdflib), validates each pops record with harvester.record.validate
and against schemas/pops.xsd, and validates each ListRecords block of the static repository against
the OAI-PMH 2.0 schema in ../shared/corpus/other/schemas/OAI-PMH.xsd when that file is present.
All content is illustrative: organisations' documents, figures, addresses and URLs are made up.
"""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from harvester import popsxml  # noqa: E402
from harvester.record import make_id, validate  # noqa: E402

# ----------------------------------------------------------------------------- constants

NODE, SOURCE = "ke", "ke-moe"
REPO_ID = "environment.go.ke.example"
SITE = "https://www.environment.go.ke.example/chm"
CHM = "https://chm.example.org"

MINISTRY = "Ministry of Environment, Climate Change and Forestry (Kenya)"
NEMA = "National Environment Management Authority (NEMA), Kenya"
PCPB = "Pest Control Products Board (Kenya)"
MOH = "Ministry of Health (Kenya)"
GOV_CHEMIST = "Government Chemist Department (Kenya)"

RIGHTS_GOK = "© Government of Kenya. May be reproduced for non-commercial purposes with acknowledgement of the source."
RIGHTS_CC_BY = "Creative Commons Attribution 4.0 International (CC BY 4.0)"
RIGHTS_PUBLIC = "Public document of the Government of Kenya; free to reuse with attribution."

COUNTRY_NAMES = {
    "KE": "Kenya", "UG": "Uganda", "TZ": "United Republic of Tanzania", "RW": "Rwanda", "BI": "Burundi",
    "ET": "Ethiopia", "SS": "South Sudan", "UY": "Uruguay", "CN": "China",
}
REGION_NAMES = {"africa": "Africa", "asia_pacific": "Asia-Pacific", "grulac": "Latin America and the Caribbean"}

# English labels of document types (../shared/vocab/document_types.csv), written into dc:type.
TYPE_LABELS = {
    "national_implementation_plan": "National implementation plan",
    "national_report": "National report",
    "action_plan": "Action plan on unintentional releases",
    "release_inventory": "Inventory",
    "bat_bep_guidance": "BAT/BEP guidelines",
    "legislation": "Legislation and policy",
    "public_awareness_material": "Public information and awareness material",
    "training_material": "Training material",
    "scientific_technical_study": "Research, development and monitoring study",
    "monitoring_report": "Monitoring and effectiveness evaluation report",
    "technical_assistance": "Technical assistance",
    "assistance_source": "Assistance source",
    "assistance_request": "Assistance request",
    "expert": "Expert",
    "best_practice": "Best practice / case study",
}
NOT_TEXT = {"expert", "assistance_source", "assistance_request"}   # no DCMI 'Text' type for these

# English names (../shared/vocab/pops_chemicals.csv), written into dc:subject.
CHEMICAL_NAMES = {
    "aldrin": "Aldrin", "dieldrin": "Dieldrin", "heptachlor": "Heptachlor", "toxaphene": "Toxaphene",
    "hcb": "Hexachlorobenzene", "pecb": "Pentachlorobenzene", "pcb": "Polychlorinated biphenyls", "ddt": "DDT",
    "pcdd": "Polychlorinated dibenzo-p-dioxins", "pcdf": "Polychlorinated dibenzofurans",
    "beta_hch": "Beta hexachlorocyclohexane", "lindane": "Lindane", "endosulfan": "Endosulfan",
    "pfos": "PFOS, its salts and PFOSF", "pfoa": "PFOA, its salts and PFOA-related compounds",
    "pfhxs": "PFHxS, its salts and PFHxS-related compounds", "decabde": "Decabromodiphenyl ether",
    "tetrabde_pentabde": "Tetrabromodiphenyl ether and pentabromodiphenyl ether",
    "hexabde_heptabde": "Hexabromodiphenyl ether and heptabromodiphenyl ether",
    "sccp": "Short-chain chlorinated paraffins", "hbcdd": "Hexabromocyclododecane",
    "dechlorane_plus": "Dechlorane Plus", "uv328": "UV-328",
}


def oai_id(local: str) -> str:
    return f"oai:{REPO_ID}:chm/{local}"


def landing(local: str) -> str:
    return f"{SITE}/documents/{local}"


def pdf(local: str, lang: str | None = None) -> str:
    return f"{SITE}/files/{local}{'-' + lang if lang else ''}.pdf"


# ----------------------------------------------------------------------------- the records
# Each entry is a POPs record without identity and provenance (added by `full_record`), plus:
#   local       the local part of the OAI identifier
#   datestamp   the OAI datestamp (UTC, seconds)
#   pops        True: also disseminated in the native pops format
#   files       languages of the PDF files ([None] for one file without a language suffix)
#   dc_language optional override of the dc:language values (as some repositories write them)

RECORDS: list[dict] = [
    dict(
        local="nip-2014", datestamp="2019-02-11T08:42:17Z", type="national_implementation_plan",
        title={"en": "Updated National Implementation Plan for the Stockholm Convention on Persistent Organic Pollutants, 2014–2024"},
        description={"en": "Kenya's first update of its National Implementation Plan (NIP) under Article 7 of the Stockholm "
                           "Convention. It reviews implementation of the 2007 NIP, adds the nine POPs listed in 2009 and "
                           "endosulfan (listed in 2011), summarises the inventories of PCB in electrical equipment, obsolete "
                           "pesticide stocks, PBDEs in electrical and electronic waste and uses of PFOS, and sets out costed "
                           "action plans for 2014–2024."},
        keywords={"en": ["national implementation plan", "Stockholm Convention", "action plans", "inventories", "new POPs"]},
        chemicals=["pcb", "ddt", "pcdd", "pcdf", "hcb", "pfos", "endosulfan", "lindane", "tetrabde_pentabde", "hexabde_heptabde"],
        articles=[7], countries=["KE"], regions=["africa"], languages=["en"],
        dates={"issued": "2014-09-15"}, creators=[MINISTRY], publisher=MINISTRY, rights=RIGHTS_GOK, files=[None],
    ),
    dict(
        local="nip-2025", datestamp="2025-11-04T13:05:52Z", type="national_implementation_plan", pops=True,
        title={"en": "Second Updated National Implementation Plan for the Stockholm Convention, 2025–2035",
               "fr": "Deuxième plan national de mise en œuvre actualisé de la Convention de Stockholm, 2025-2035"},
        description={
            "en": "Updates the National Implementation Plan to cover the chemicals listed by the Conference of the Parties "
                  "up to 2023, including PFOA, PFHxS, decabromodiphenyl ether, short-chain chlorinated paraffins, "
                  "Dechlorane Plus and UV-328. Contains revised inventories, a gap analysis of the legal framework, "
                  "priorities for eliminating PCB in equipment by 2028 and a costed action plan with indicators.",
            "fr": "Met à jour le plan national de mise en œuvre pour couvrir les produits chimiques inscrits par la "
                  "Conférence des Parties jusqu'en 2023, notamment le PFOA, le PFHxS, le décabromodiphényléther, les "
                  "paraffines chlorées à chaîne courte, le Déchlorane Plus et l'UV-328. Comprend des inventaires révisés, "
                  "une analyse des lacunes du cadre juridique, les priorités pour l'élimination des PCB dans les "
                  "équipements d'ici 2028 et un plan d'action chiffré assorti d'indicateurs."},
        keywords={"en": ["national implementation plan", "PFAS", "PCB elimination", "action plan", "new POPs"],
                  "fr": ["plan national de mise en œuvre", "PFAS", "élimination des PCB", "plan d'action"]},
        chemicals=["pcb", "ddt", "pcdd", "pcdf", "pfos", "pfoa", "pfhxs", "decabde", "sccp", "hbcdd", "dechlorane_plus", "uv328"],
        articles=[7], countries=["KE"], regions=["africa"], languages=["en", "fr"],
        dates={"issued": "2025-06-30"}, creators=[MINISTRY, NEMA], publisher=MINISTRY, rights=RIGHTS_GOK,
        files=["en", "fr"],
    ),
    dict(
        local="national-report-4", datestamp="2019-04-02T10:21:05Z", type="national_report",
        title={"en": "Fourth National Report to the Stockholm Convention (Article 15)"},
        description={"en": "National report for the fourth reporting cycle, submitted through the Convention's electronic "
                           "reporting system. Covers measures taken in 2014–2017, import and export data for DDT and PFOS, "
                           "progress towards eliminating PCB, and the difficulties met, including limited laboratory "
                           "capacity and lack of funding for disposal."},
        keywords={"en": ["national report", "Article 15", "reporting", "PCB elimination"]},
        chemicals=["pcb", "ddt", "endosulfan", "pfos"], articles=[15], countries=["KE"], regions=["africa"],
        languages=["en"], dates={"issued": "2018-08-31"}, creators=[MINISTRY], publisher=MINISTRY,
        rights=RIGHTS_PUBLIC, files=[None],
    ),
    dict(
        local="national-report-5", datestamp="2022-09-12T07:48:33Z", type="national_report",
        title={"en": "Fifth National Report to the Stockholm Convention (Article 15), reporting period 2018–2021"},
        description={"en": "Fifth national report on the measures Kenya has taken to implement the Convention. Reports the "
                           "deregistration of endosulfan and lindane products, the results of the 2020 PCB inventory, the "
                           "first survey of PFOS in firefighting foams, the status of obsolete pesticide safeguarding and "
                           "the technical and financial assistance received."},
        keywords={"en": ["national report", "Article 15", "reporting", "PFOS", "PCB inventory"]},
        chemicals=["pcb", "ddt", "lindane", "endosulfan", "pfos", "pfoa", "decabde", "sccp"], articles=[15],
        countries=["KE"], regions=["africa"], languages=["en"], dates={"issued": "2022-08-26"},
        creators=[MINISTRY], publisher=MINISTRY, rights=RIGHTS_PUBLIC, files=[None],
    ),
    dict(
        local="pcb-inventory-2020", datestamp="2020-12-03T14:30:09Z", type="release_inventory", pops=True,
        title={"en": "National Inventory of PCB-Containing Electrical Equipment, 2020",
               "zh": "2020年肯尼亚含多氯联苯（PCB）电气设备国家清单"},
        description={
            "en": "Results of the national PCB inventory: 4,312 transformers and 1,085 capacitors were screened in "
                  "2018–2020 at utilities, industries and hospitals in 28 counties. About 9% of the transformer oils "
                  "sampled contained more than 50 mg/kg PCB. The report estimates 1,150 tonnes of PCB-contaminated "
                  "equipment and oil and identifies priority sites for labelling, safe storage and environmentally sound "
                  "disposal before the 2028 deadline.",
            "zh": "国家多氯联苯清单结果：2018—2020年在28个县的电力公司、工业企业和医院筛查了4312台变压器和1085台电容器。"
                  "约9%的变压器油样品多氯联苯含量超过50毫克/千克。报告估计含多氯联苯的设备和油品约1150吨，"
                  "并确定了在2028年期限之前进行标识、安全储存和环境无害化处置的优先场所。"},
        keywords={"en": ["PCB", "transformers", "capacitors", "inventory", "2028 target"],
                  "zh": ["多氯联苯", "变压器", "电容器", "清单"]},
        chemicals=["pcb"], articles=[3, 6], countries=["KE"], regions=["africa"], languages=["en", "zh"],
        dates={"issued": "2020-11-20"}, creators=[NEMA], publisher=MINISTRY, rights=RIGHTS_GOK, files=["en", "zh"],
    ),
    dict(
        local="ddt-irs-situation-analysis", datestamp="2021-05-06T11:17:40Z", type="scientific_technical_study",
        title={"en": "DDT for Indoor Residual Spraying in Malaria Vector Control: Situation Analysis and Alternatives"},
        description={"en": "Reviews the acceptable purpose of DDT for indoor residual spraying, insecticide resistance data "
                           "from sentinel sites in western Kenya, and the cost and effectiveness of alternatives: "
                           "pyrethroids, organophosphates, long-lasting insecticidal nets and larval source management. "
                           "Recommends not resuming DDT use and strengthening integrated vector management."},
        keywords={"en": ["DDT", "malaria", "indoor residual spraying", "vector control", "insecticide resistance"]},
        chemicals=["ddt"], articles=[11], countries=["KE"], regions=["africa"], languages=["en"],
        dates={"issued": "2021-04-20"}, creators=[MOH, NEMA], publisher=MINISTRY, rights=RIGHTS_CC_BY, files=[None],
    ),
    dict(
        local="ddt-alternatives-east-africa", datestamp="2023-04-18T09:02:51Z", type="best_practice",
        title={"zh": "东非在疟疾病媒控制中采用滴滴涕替代品的经验",
               "en": "East African Experience with Alternatives to DDT for Malaria Vector Control"},
        description={
            "zh": "肯尼亚、乌干达、坦桑尼亚联合共和国和埃塞俄比亚逐步停用滴滴涕的案例研究：室内滞留喷洒中轮换使用不同类别的杀虫剂、"
                  "以社区为基础的幼虫孳生地治理以及病媒综合管理。为南南交流研讨会编写。",
            "en": "Case studies from Kenya, Uganda, the United Republic of Tanzania and Ethiopia on moving away from DDT: "
                  "rotating insecticide classes for indoor residual spraying, community-based larval source management "
                  "and integrated vector management. Prepared for a South–South exchange workshop."},
        keywords={"zh": ["滴滴涕", "疟疾", "病媒控制", "替代品"],
                  "en": ["DDT", "malaria", "integrated vector management", "alternatives", "South–South cooperation"]},
        chemicals=["ddt"], countries=["KE", "UG", "TZ", "ET"], regions=["africa"], languages=["zh", "en"],
        dates={"issued": "2023-03-15"}, creators=[MINISTRY, MOH], publisher=MINISTRY, rights=RIGHTS_CC_BY,
        files=["zh", "en"],
    ),
    dict(
        local="dioxin-open-burning-2019", datestamp="2019-08-19T15:44:26Z", type="release_inventory",
        title={"en": "Inventory of Unintentional Releases of Dioxins and Furans (PCDD/PCDF) from Open Burning of Waste"},
        description={"en": "Estimates releases of PCDD/PCDF to air, land and residues from open burning of municipal waste, "
                           "agricultural residues and e-waste using the UNEP Toolkit. Open burning at dumpsites is the "
                           "largest source category, about 62 g TEQ per year of a national total of 98 g TEQ. Includes "
                           "activity data for Nairobi, Mombasa, Kisumu and Nakuru and recommendations for source reduction."},
        keywords={"en": ["dioxins", "furans", "open burning", "release inventory", "UNEP Toolkit", "dumpsites"]},
        chemicals=["pcdd", "pcdf", "hcb"], articles=[5], countries=["KE"], regions=["africa"], languages=["en"],
        dates={"issued": "2019-07-31"}, creators=[NEMA], publisher=NEMA, rights=RIGHTS_GOK, files=[None],
    ),
    dict(
        local="upops-action-plan", datestamp="2020-03-24T08:15:00Z", type="action_plan",
        title={"en": "National Action Plan on Unintentionally Produced Persistent Organic Pollutants (Article 5)",
               "fr": "Plan d'action national sur les polluants organiques persistants produits non intentionnellement (article 5)"},
        description={
            "en": "Sets targets and measures to reduce releases of unintentionally produced POPs: ending open burning at "
                  "dumpsites, BAT/BEP for health-care waste incinerators, cement kilns co-processing waste and "
                  "metallurgical plants, and a review of the efficacy of the laws every five years.",
            "fr": "Fixe des objectifs et des mesures pour réduire les rejets de polluants organiques persistants produits "
                  "non intentionnellement : arrêt du brûlage à l'air libre dans les décharges, meilleures techniques "
                  "disponibles et meilleures pratiques environnementales pour les incinérateurs de déchets médicaux, les "
                  "fours à ciment co-incinérant des déchets et les installations métallurgiques, et évaluation de "
                  "l'efficacité de la législation tous les cinq ans."},
        keywords={"en": ["action plan", "unintentional POPs", "open burning", "BAT/BEP"],
                  "fr": ["plan d'action", "POP non intentionnels", "brûlage à l'air libre", "dioxines et furannes"]},
        chemicals=["pcdd", "pcdf", "hcb", "pecb", "pcb"], articles=[5], countries=["KE"], regions=["africa"],
        languages=["en", "fr"], dates={"issued": "2020-03-10"}, creators=[NEMA], publisher=MINISTRY,
        rights=RIGHTS_GOK, files=["en", "fr"],
    ),
    dict(
        local="obsolete-pesticides-2020", datestamp="2020-07-15T12:03:48Z", type="release_inventory",
        title={"en": "National Inventory of Obsolete Pesticide Stocks and Contaminated Stores"},
        description={"en": "Inventory of obsolete pesticides held at 57 stores of former cooperative unions, agricultural "
                           "research stations and county depots. Records about 310 tonnes of obsolete products, of which "
                           "48 tonnes are POPs pesticides (mainly DDT, dieldrin, lindane and endosulfan formulations), and "
                           "1,900 tonnes of contaminated soil. Each store is ranked by risk to guide safeguarding and "
                           "repackaging."},
        keywords={"en": ["obsolete pesticides", "stockpiles", "contaminated sites", "safeguarding", "inventory"]},
        chemicals=["ddt", "aldrin", "dieldrin", "heptachlor", "toxaphene", "lindane", "endosulfan"], articles=[6],
        countries=["KE"], regions=["africa"], languages=["en"], dates={"issued": "2020-06-30"},
        creators=[PCPB, NEMA], publisher=MINISTRY, rights=RIGHTS_GOK, files=[None],
    ),
    dict(
        local="obsolete-pesticides-east-africa", datestamp="2022-01-20T16:27:11Z", type="scientific_technical_study",
        title={"fr": "Stocks de pesticides obsolètes en Afrique de l'Est : rapport de synthèse régional",
               "en": "Obsolete Pesticide Stockpiles in East Africa: Regional Synthesis Report"},
        description={
            "fr": "Synthèse des inventaires nationaux de pesticides obsolètes au Burundi, au Kenya, en Ouganda, en "
                  "République-Unie de Tanzanie et au Rwanda. Le rapport compare les quantités déclarées, l'état des "
                  "entrepôts et les options d'élimination écologiquement rationnelle, y compris l'exportation pour "
                  "incinération à haute température.",
            "en": "Synthesis of the national inventories of obsolete pesticides in Burundi, Kenya, Rwanda, Uganda and the "
                  "United Republic of Tanzania, comparing declared quantities, the condition of stores and options for "
                  "environmentally sound disposal, including export for high-temperature incineration."},
        keywords={"fr": ["pesticides obsolètes", "stocks", "élimination écologiquement rationnelle", "Afrique de l'Est"],
                  "en": ["obsolete pesticides", "stockpiles", "environmentally sound disposal", "East Africa"]},
        chemicals=["ddt", "dieldrin", "lindane", "endosulfan"], countries=["KE", "UG", "TZ", "RW", "BI"],
        regions=["africa"], languages=["fr", "en"], dates={"issued": "2021-11-30"},
        creators=["Regional POPs Network for East Africa"], publisher="Regional POPs Network for East Africa",
        rights=RIGHTS_CC_BY, files=["fr", "en"],
    ),
    dict(
        local="pfos-firefighting-foams-2023", datestamp="2023-06-21T10:39:14Z", type="scientific_technical_study",
        title={"en": "PFOS and Other PFAS in Firefighting Foams at Airports and Fuel Depots: Preliminary Inventory"},
        description={"en": "Survey of aqueous film-forming foam (AFFF) stocks at 9 airports, 14 fuel depots and 6 refinery "
                           "and port fire services. Of 212 tonnes of foam concentrate identified, about 38 tonnes are "
                           "likely to contain PFOS or its precursors, based on product data and screening with the total "
                           "oxidisable precursor assay. Recommends withdrawing PFOS-containing foams, containing run-off "
                           "at training grounds and switching to fluorine-free foams."},
        keywords={"en": ["PFOS", "PFAS", "firefighting foams", "AFFF", "airports", "inventory"]},
        chemicals=["pfos", "pfoa", "pfhxs"], articles=[3, 6], countries=["KE"], regions=["africa"],
        languages=["en"], dates={"issued": "2023-05-31"}, creators=[NEMA], publisher=NEMA, rights=RIGHTS_CC_BY,
        files=[None],
    ),
    dict(
        local="fluorine-free-foams-training", datestamp="2024-03-05T09:30:22Z", type="training_material",
        title={"en": "Switching to Fluorine-Free Firefighting Foams: Training Module for Fire and Rescue Services",
               "zh": "改用无氟消防泡沫：消防救援人员培训模块"},
        description={
            "en": "Slides, trainer notes and exercises on identifying foams that contain PFOS, PFOA or PFHxS, managing "
                  "stocks and contaminated run-off, and the performance of fluorine-free alternatives on Class B fires.",
            "zh": "包括幻灯片、培训师说明和练习，内容涵盖识别含全氟辛基磺酸（PFOS）、全氟辛酸（PFOA）或全氟己烷磺酸（PFHxS）的泡沫，"
                  "管理库存和受污染的径流，以及无氟替代品扑灭B类火灾的性能。"},
        keywords={"en": ["PFOS", "firefighting foams", "fluorine-free foams", "training"],
                  "zh": ["全氟辛基磺酸", "消防泡沫", "无氟泡沫", "培训"]},
        chemicals=["pfos", "pfoa", "pfhxs"], articles=[10], countries=["KE"], regions=["africa"],
        languages=["en", "zh"], dates={"issued": "2024-02-12"}, creators=[NEMA], publisher=MINISTRY,
        rights=RIGHTS_CC_BY, files=["en", "zh"],
    ),
    dict(
        local="lindane-deregistration-notice", datestamp="2019-10-14T07:55:31Z", type="legislation",
        title={"en": "Gazette Notice: Cancellation of Registration of Lindane-Based Pest Control Products"},
        description={"en": "Notice cancelling the registration of all products containing lindane (gamma-HCH) for seed "
                           "treatment, control of livestock ectoparasites and public health uses, with six months for "
                           "withdrawing remaining stocks from the market and returning them to distributors for disposal."},
        keywords={"en": ["lindane", "deregistration", "pest control products", "gazette notice"]},
        chemicals=["lindane"], articles=[3], countries=["KE"], regions=["africa"], languages=["en"],
        dates={"issued": "2019-09-27"}, creators=[PCPB], publisher=PCPB, rights=RIGHTS_PUBLIC, files=[None],
        dc_language=["eng"],
    ),
    dict(
        local="endosulfan-phase-out", datestamp="2020-01-29T13:12:40Z", type="legislation",
        title={"en": "Endosulfan Phase-Out: Deregistration Notice and Guidance on Alternatives for Cotton and Horticulture"},
        description={"en": "Confirms the withdrawal of technical endosulfan and its related isomers from the register of "
                           "pest control products and lists registered alternatives and integrated pest management "
                           "practices for bollworm, aphid and whitefly control in cotton, vegetables and cut flowers."},
        keywords={"en": ["endosulfan", "phase-out", "integrated pest management", "alternatives", "horticulture"]},
        chemicals=["endosulfan"], articles=[3], countries=["KE"], regions=["africa"], languages=["en"],
        dates={"issued": "2019-11-05"}, creators=[PCPB], publisher=PCPB, rights=RIGHTS_PUBLIC, files=[None],
    ),
    dict(
        local="pcb-esm-kenya-uruguay", datestamp="2022-11-08T15:20:03Z", type="best_practice",
        title={"es": "Gestión ambientalmente racional de los bifenilos policlorados (PCB): experiencias de Kenya y Uruguay",
               "en": "Environmentally Sound Management of Polychlorinated Biphenyls (PCB): Experiences from Kenya and Uruguay"},
        description={
            "es": "Documento de intercambio Sur-Sur que compara los inventarios de PCB, el etiquetado de equipos, el "
                  "almacenamiento temporal y las opciones de eliminación en Kenya y Uruguay, con lecciones sobre la "
                  "participación de las empresas eléctricas y la financiación de la descontaminación de transformadores.",
            "en": "South–South exchange paper comparing PCB inventories, equipment labelling, interim storage and disposal "
                  "options in Kenya and Uruguay, with lessons on involving electricity utilities and financing the "
                  "decontamination of transformers."},
        keywords={"es": ["bifenilos policlorados", "PCB", "gestión ambientalmente racional", "cooperación Sur-Sur"],
                  "en": ["PCB", "environmentally sound management", "South–South cooperation", "transformers"]},
        chemicals=["pcb"], articles=[6], countries=["KE", "UY"], regions=["africa", "grulac"], languages=["es", "en"],
        dates={"issued": "2022-10-05"}, creators=[MINISTRY], publisher=MINISTRY, rights=RIGHTS_CC_BY,
        files=["es", "en"],
    ),
    dict(
        local="pest-control-products-act", datestamp="2020-02-17T09:48:12Z", type="legislation",
        title={"en": "Pest Control Products Act (Cap. 346) with Subsidiary Regulations: Consolidated Text"},
        description={"en": "Consolidated text of the Act governing the registration, import, manufacture, sale, use and "
                           "disposal of pest control products, with the regulations on registration, labelling and "
                           "packaging, licensing of premises and importation. Annexes list the products banned or "
                           "restricted in Kenya, including the POPs pesticides."},
        keywords={"en": ["pesticide legislation", "registration", "banned pesticides", "import control"]},
        chemicals=["ddt", "aldrin", "dieldrin", "lindane", "endosulfan"], articles=[3], countries=["KE"],
        regions=["africa"], languages=["en"], dates={"issued": "2019-12-06"}, creators=[PCPB], publisher=PCPB,
        rights=RIGHTS_PUBLIC, files=[None],
    ),
    dict(
        local="pops-regulations-2024", datestamp="2024-08-02T06:58:44Z", type="legislation",
        title={"en": "Environmental Management and Co-ordination (Persistent Organic Pollutants) Regulations, 2024"},
        description={"en": "Regulations under the Environmental Management and Co-ordination Act controlling the import, "
                           "export, manufacture, use, labelling and disposal of POPs and of articles and wastes containing "
                           "them. Holders of PCB equipment must register it with the Authority; 50 mg/kg is set as the PCB "
                           "threshold and 2028 as the end date for the use of PCB equipment; the import of firefighting "
                           "foams containing PFOS, PFOA or PFHxS is prohibited."},
        keywords={"en": ["regulations", "POPs wastes", "PCB", "PFAS", "import ban"]},
        chemicals=["pcb", "pfos", "pfoa", "pfhxs", "decabde", "sccp", "hbcdd"], articles=[3, 6], countries=["KE"],
        regions=["africa"], languages=["en"], dates={"issued": "2024-07-19"}, creators=[MINISTRY],
        publisher=MINISTRY, rights=RIGHTS_PUBLIC, files=[None],
    ),
    dict(
        local="bat-bep-open-burning", datestamp="2021-10-01T11:36:57Z", type="bat_bep_guidance",
        title={"en": "Guidance on Best Available Techniques and Best Environmental Practices to Reduce Open Burning of "
                     "Waste at County Dumpsites",
               "fr": "Lignes directrices sur les meilleures techniques disponibles et les meilleures pratiques "
                     "environnementales pour réduire le brûlage à l'air libre des déchets dans les décharges des comtés"},
        description={
            "en": "Practical guidance for county governments on preventing and suppressing dumpsite fires, separating "
                  "waste at source, controlled compaction and cover, and ending the burning of cables and e-waste for "
                  "metal recovery, with the expected reduction in PCDD/PCDF releases for each measure.",
            "fr": "Guide pratique destiné aux gouvernements des comtés sur la prévention et l'extinction des feux de "
                  "décharge, le tri des déchets à la source, le compactage et la couverture contrôlés, et l'abandon du "
                  "brûlage des câbles et des déchets électroniques pour récupérer les métaux, avec la réduction attendue "
                  "des rejets de PCDD/PCDF pour chaque mesure."},
        keywords={"en": ["BAT/BEP", "open burning", "dumpsites", "dioxins", "waste management"],
                  "fr": ["MTD/MPE", "brûlage à l'air libre", "décharges", "dioxines"]},
        chemicals=["pcdd", "pcdf", "hcb"], articles=[5], countries=["KE"], regions=["africa"],
        languages=["en", "fr"], dates={"issued": "2021-09-10"}, creators=[NEMA], publisher=NEMA,
        rights=RIGHTS_CC_BY, files=["en", "fr"],
    ),
    dict(
        local="bat-bep-healthcare-waste", datestamp="2022-03-29T14:07:19Z", type="bat_bep_guidance",
        title={"en": "Technical Guidelines on BAT/BEP for Health-Care Waste Incineration"},
        description={"en": "Design and operating requirements for small and medium health-care waste incinerators: "
                           "dual-chamber design, secondary combustion above 850 °C with a two-second residence time, "
                           "rapid cooling of flue gas, air pollution control, ash management, and alternatives such as "
                           "autoclaving for infectious waste."},
        keywords={"en": ["BAT/BEP", "health-care waste", "incineration", "dioxins", "autoclaving"]},
        chemicals=["pcdd", "pcdf"], articles=[5], countries=["KE"], regions=["africa"], languages=["en"],
        dates={"issued": "2022-03-01"}, creators=[MOH, NEMA], publisher=MOH, rights=RIGHTS_GOK, files=[None],
    ),
    dict(
        local="pcb-screening-training-manual", datestamp="2019-06-10T08:20:35Z", type="training_material",
        title={"en": "Training Manual: Identification, Sampling and Screening of PCB in Transformer Oil",
               "fr": "Manuel de formation : identification, échantillonnage et dépistage des PCB dans l'huile des transformateurs"},
        description={
            "en": "Step-by-step manual used for the national PCB inventory: reading nameplates, safe sampling of "
                  "transformer oil, field screening with chlorine test kits, chain of custody and confirmation by gas "
                  "chromatography. Includes worksheets and a list of trade names of PCB oils.",
            "fr": "Manuel pas à pas utilisé pour l'inventaire national des PCB : lecture des plaques signalétiques, "
                  "échantillonnage sécurisé de l'huile des transformateurs, dépistage sur le terrain à l'aide de kits de "
                  "détection du chlore, chaîne de traçabilité et confirmation par chromatographie en phase gazeuse. "
                  "Comprend des fiches de travail et une liste des noms commerciaux des huiles à PCB."},
        keywords={"en": ["PCB", "training", "transformer oil", "sampling", "screening"],
                  "fr": ["PCB", "formation", "huile de transformateur", "échantillonnage"]},
        chemicals=["pcb"], articles=[10], countries=["KE"], regions=["africa"], languages=["en", "fr"],
        dates={"issued": "2019-05-22"}, creators=[NEMA], publisher=NEMA, rights=RIGHTS_CC_BY, files=["en", "fr"],
    ),
    dict(
        local="customs-training-module", datestamp="2022-07-04T10:44:09Z", type="training_material",
        title={"en": "Training Module for Customs Officers on Controlling Imports and Exports of POPs Pesticides and "
                     "Industrial Chemicals",
               "ru": "Учебный модуль для сотрудников таможни по контролю импорта и экспорта пестицидов и промышленных "
                     "химических веществ, относящихся к стойким органическим загрязнителям"},
        description={
            "en": "Module on Harmonized System codes for POPs, reading labels and safety data sheets, detecting mislabelled "
                  "or illegal consignments, the link with the prior informed consent procedure of the Rotterdam "
                  "Convention, and procedures for seizure and safe storage.",
            "ru": "Модуль о кодах Гармонизированной системы (ГС) для СОЗ, чтении этикеток и паспортов безопасности, "
                  "выявлении неправильно маркированных или незаконных партий, связи с процедурой предварительного "
                  "обоснованного согласия Роттердамской конвенции, а также о процедурах изъятия и безопасного хранения."},
        keywords={"en": ["customs", "training", "illegal trade", "POPs pesticides"],
                  "ru": ["таможня", "обучение", "незаконная торговля", "стойкие органические загрязнители"]},
        chemicals=["ddt", "endosulfan", "lindane", "pcb", "pfos"], articles=[3, 10], countries=["KE"],
        regions=["africa"], languages=["en", "ru"], dates={"issued": "2022-06-14"}, creators=[NEMA],
        publisher=MINISTRY, rights=RIGHTS_CC_BY, files=["en", "ru"],
    ),
    dict(
        local="pops-and-your-health-leaflet", datestamp="2023-10-16T12:12:45Z", type="public_awareness_material",
        pops=True,
        title={"en": "Persistent Organic Pollutants and Your Health: Community Leaflet",
               "fr": "Les polluants organiques persistants et votre santé : dépliant pour les communautés",
               "ar": "الملوثات العضوية الثابتة وصحتك: نشرة توعوية للمجتمعات المحلية"},
        description={
            "en": "Four-page leaflet explaining what POPs are, how people are exposed through food, smoke from burning "
                  "waste and old pesticide stores, and simple ways to reduce exposure. Produced for county health "
                  "promoters and community groups.",
            "fr": "Dépliant de quatre pages expliquant ce que sont les POP, comment la population y est exposée par "
                  "l'alimentation, la fumée du brûlage des déchets et les anciens entrepôts de pesticides, et des gestes "
                  "simples pour réduire l'exposition. Destiné aux promoteurs de santé des comtés et aux groupes "
                  "communautaires.",
            "ar": "نشرة من أربع صفحات تشرح ماهية الملوثات العضوية الثابتة، وكيف يتعرض لها الناس عن طريق الغذاء والدخان "
                  "الناتج عن حرق النفايات ومخازن المبيدات القديمة، وطرقًا بسيطة للحد من التعرض لها. أُعدّت للعاملين في "
                  "مجال التوعية الصحية في المقاطعات وللمجموعات المجتمعية."},
        keywords={"en": ["awareness", "health", "exposure", "open burning", "community"],
                  "fr": ["sensibilisation", "santé", "exposition"],
                  "ar": ["الملوثات العضوية الثابتة", "الصحة", "التوعية"]},
        chemicals=["pcdd", "pcdf", "ddt", "pcb"], articles=[10], countries=["KE"], regions=["africa"],
        languages=["en", "fr", "ar"], dates={"issued": "2023-09-25"}, creators=[MINISTRY, MOH],
        publisher=MINISTRY, rights=RIGHTS_CC_BY, files=["en", "fr", "ar"],
    ),
    dict(
        local="breast-milk-survey-2019-2020", datestamp="2021-09-07T13:51:26Z", type="monitoring_report",
        title={"en": "POPs in Human Breast Milk: National Survey 2019–2020 under the WHO/UNEP Protocol",
               "fr": "Les POP dans le lait maternel : enquête nationale 2019-2020 selon le protocole OMS/PNUE"},
        description={
            "en": "Pooled breast-milk samples from first-time mothers in Nairobi, Kisumu, Mombasa and Eldoret were "
                  "analysed for the core POPs of the Global Monitoring Plan. p,p'-DDE remained the dominant "
                  "organochlorine (median 210 ng/g lipid), with higher levels in the lake basin; PCDD/PCDF and "
                  "dioxin-like PCB totalled 3.9 pg TEQ/g lipid; PFOS was found in every pool. Results are compared with "
                  "the 2008 and 2013 rounds.",
            "fr": "Des échantillons groupés de lait maternel de primipares de Nairobi, Kisumu, Mombasa et Eldoret ont été "
                  "analysés pour les POP prioritaires du Plan de surveillance mondiale. Le p,p'-DDE reste l'organochloré "
                  "dominant (médiane de 210 ng/g de lipides), avec des teneurs plus élevées dans le bassin du lac ; les "
                  "PCDD/PCDF et les PCB de type dioxine totalisent 3,9 pg TEQ/g de lipides ; le PFOS a été détecté dans "
                  "tous les échantillons groupés. Les résultats sont comparés aux campagnes de 2008 et 2013."},
        keywords={"en": ["breast milk", "human exposure", "Global Monitoring Plan", "biomonitoring"],
                  "fr": ["lait maternel", "exposition humaine", "Plan de surveillance mondiale"]},
        chemicals=["ddt", "hcb", "beta_hch", "pcb", "pcdd", "pcdf", "pfos", "pfoa", "pfhxs"], articles=[16],
        countries=["KE"], regions=["africa"], languages=["en", "fr"], dates={"issued": "2021-08-16"},
        creators=[MOH, GOV_CHEMIST], publisher=MOH, rights=RIGHTS_CC_BY, files=["en", "fr"],
    ),
    dict(
        local="air-monitoring-gmp-2017-2022", datestamp="2024-01-15T08:33:02Z", type="monitoring_report",
        title={"en": "Passive Air Sampling of POPs at Mount Kenya and Nairobi, 2017–2022 (Global Monitoring Plan)",
               "ru": "Пассивный отбор проб воздуха на стойкие органические загрязнители на горе Кения и в Найроби, "
                     "2017–2022 годы (План глобального мониторинга)"},
        description={
            "en": "Results of six years of passive air sampling with polyurethane foam disks at a high-altitude background "
                  "site on Mount Kenya and an urban site in Nairobi. Urban PCB and PBDE levels were 5 to 20 times the "
                  "background; endosulfan declined after deregistration. The data were submitted to the Global "
                  "Monitoring Plan data warehouse.",
            "ru": "Результаты шестилетнего пассивного отбора проб воздуха с помощью дисков из пенополиуретана на "
                  "высокогорной фоновой станции на горе Кения и на городской станции в Найроби. Уровни ПХБ и ПБДЭ в "
                  "городе в 5–20 раз превышали фоновые; после отмены регистрации эндосульфана его концентрации снизились. "
                  "Данные переданы в хранилище данных Плана глобального мониторинга."},
        keywords={"en": ["air monitoring", "passive sampling", "Global Monitoring Plan", "PBDE", "PCB"],
                  "ru": ["мониторинг воздуха", "пассивный отбор проб", "ПХБ", "СОЗ"]},
        chemicals=["pcb", "ddt", "hcb", "endosulfan", "pecb", "tetrabde_pentabde", "pfos"], articles=[16],
        countries=["KE"], regions=["africa"], languages=["en", "ru"], dates={"issued": "2023-11-29"},
        creators=[GOV_CHEMIST, NEMA], publisher=NEMA, rights=RIGHTS_CC_BY, files=["en", "ru"],
    ),
    dict(
        local="ewaste-brominated-plastics-case-study", datestamp="2024-06-11T15:02:38Z", type="best_practice",
        title={"en": "Case Study: Separating Brominated Plastics from Electronic Waste at a Nairobi Recycling Hub"},
        description={"en": "Describes how a licensed e-waste recycler introduced X-ray fluorescence screening and density "
                           "separation to keep plastics containing PBDEs out of recycled products, the costs involved, "
                           "the volumes sent for co-processing in a cement kiln, and lessons for other recyclers."},
        keywords={"en": ["e-waste", "brominated flame retardants", "PBDE", "recycling", "case study"]},
        chemicals=["decabde", "tetrabde_pentabde", "hexabde_heptabde"], articles=[6], countries=["KE"],
        regions=["africa"], languages=["en"], dates={"issued": "2024-05-20"}, creators=[NEMA], publisher=NEMA,
        rights=RIGHTS_CC_BY, files=[None],
    ),
    dict(
        local="expert-ke-exp-007", datestamp="2025-02-03T09:41:16Z", type="expert",
        title={"en": "Expert Profile: PCB Management and Transformer Decommissioning (Roster Entry KE-EXP-007)",
               "fr": "Profil d'expert : gestion des PCB et mise hors service des transformateurs (fiche KE-EXP-007)"},
        description={
            "en": "Electrical engineer nominated by Kenya to the joint roster of experts of the Basel, Rotterdam and "
                  "Stockholm conventions. Fifteen years of experience in PCB inventories, retrofilling and dechlorination "
                  "of transformers, design of interim storage and supervision of exports for destruction. Working "
                  "languages: English, French. Contact through the national focal point.",
            "fr": "Ingénieur électricien désigné par le Kenya pour le fichier commun d'experts des conventions de Bâle, de "
                  "Rotterdam et de Stockholm. Quinze ans d'expérience dans les inventaires de PCB, le remplissage et la "
                  "déchloration des transformateurs, la conception d'entrepôts provisoires et la supervision des "
                  "exportations pour destruction. Langues de travail : anglais, français. Contact par l'intermédiaire du "
                  "correspondant national."},
        keywords={"en": ["roster of experts", "PCB", "transformers", "disposal"],
                  "fr": ["fichier d'experts", "PCB", "transformateurs"]},
        chemicals=["pcb"], countries=["KE"], regions=["africa"], languages=["en", "fr"],
        dates={"created": "2019-11-18", "modified": "2025-01-30"}, publisher=MINISTRY, rights=RIGHTS_PUBLIC, files=[],
    ),
    dict(
        local="ta-laboratory-capacity-2021-2023", datestamp="2024-02-27T11:19:30Z", type="technical_assistance",
        title={"en": "Technical Assistance Delivered: Strengthening PCB and Dioxin Laboratory Capacity, 2021–2023"},
        description={"en": "Completion summary of a technical assistance project in which a regional centre and two partner "
                           "laboratories trained 24 analysts from Kenya, Uganda and the United Republic of Tanzania, "
                           "supplied reference standards and supported participation in two interlaboratory assessments."},
        keywords={"en": ["technical assistance", "laboratory capacity", "interlaboratory assessment", "capacity building"]},
        chemicals=["pcb", "pcdd", "pcdf"], articles=[12], countries=["KE", "UG", "TZ"], regions=["africa"],
        languages=["en"], dates={"issued": "2023-12-08"}, creators=[GOV_CHEMIST], publisher=MINISTRY,
        rights=RIGHTS_CC_BY, files=[None],
    ),
    # ------------------------------------------------------------------ assistance sources and requests
    dict(
        local="assistance-ea-small-grants-2026", datestamp="2026-03-02T08:00:31Z", type="assistance_source", pops=True,
        title={"en": "Small Grants for POPs Phase-Out Projects in East Africa: Call for Proposals 2026",
               "fr": "Petites subventions pour des projets d'élimination des POP en Afrique de l'Est : appel à propositions 2026"},
        description={
            "en": "Grants for national organisations in East Africa that carry out practical projects to eliminate POPs: "
                  "identifying and labelling PCB equipment, collecting PFOS-containing foams, reducing open burning of "
                  "waste and safeguarding obsolete pesticide stores.",
            "fr": "Subventions destinées aux organisations nationales d'Afrique de l'Est qui mènent des projets concrets "
                  "d'élimination des POP : identification et étiquetage des équipements contenant des PCB, collecte des "
                  "mousses contenant du PFOS, réduction du brûlage à l'air libre des déchets et sécurisation des "
                  "entrepôts de pesticides obsolètes."},
        keywords={"en": ["small grants", "call for proposals", "financial assistance", "East Africa"],
                  "fr": ["petites subventions", "appel à propositions", "assistance financière"]},
        chemicals=["pcb", "pfos", "ddt", "pcdd", "pcdf"], articles=[13],
        countries=["KE", "UG", "TZ", "RW", "BI", "SS", "ET"], regions=["africa"], languages=["en", "fr"],
        dates={"issued": "2026-03-01", "valid_until": "2026-09-30"}, publisher="East African Chemicals Facility",
        rights=RIGHTS_CC_BY, links_override=[{"url": f"{CHM}/assistance/ea-small-grants-2026", "rel": "landing"},
                                             {"url": f"{CHM}/assistance/ea-small-grants-2026/guidelines-en.pdf",
                                              "rel": "file", "format": "application/pdf", "language": "en"},
                                             {"url": f"{CHM}/assistance/ea-small-grants-2026/guidelines-fr.pdf",
                                              "rel": "file", "format": "application/pdf", "language": "fr"}],
        assistance={
            "kind": ["financial"], "provider": "East African Chemicals Facility (multi-donor fund)",
            "eligible_countries": ["KE", "UG", "TZ", "RW", "BI", "SS", "ET"], "eligible_regions": ["africa"],
            "activities": ["identification and labelling of PCB equipment",
                           "pilot collection of PFOS-containing firefighting foams",
                           "community action against open burning of waste",
                           "safeguarding of obsolete pesticide stores"],
            "conditions": {
                "en": "Grants of USD 20,000 to 75,000 for national NGOs, universities and local authorities in eligible "
                      "Parties; co-financing of at least 20%; projects of at most 24 months; endorsement by the Stockholm "
                      "Convention national focal point required.",
                "fr": "Subventions de 20 000 à 75 000 dollars des États-Unis pour les ONG nationales, les universités et "
                      "les autorités locales des Parties admissibles ; cofinancement d'au moins 20 % ; projets d'une durée "
                      "maximale de 24 mois ; approbation du correspondant national de la Convention de Stockholm requise."},
            "how_to_apply": {"en": "Submit the application form and budget template through the online portal before "
                                   "the deadline; shortlisted applicants are invited to a call in November 2026.",
                             "fr": "Soumettre le formulaire de candidature et le modèle de budget sur le portail en ligne "
                                   "avant la date limite ; les candidats présélectionnés seront contactés en novembre 2026."},
            "contact": "grants@chm.example.org", "deadline": "2026-09-30", "status": "open"},
    ),
    dict(
        local="assistance-laboratory-twinning", datestamp="2024-04-08T17:25:03Z", type="assistance_source", pops=True,
        title={"en": "Laboratory Twinning Programme for POPs Analysis",
               "es": "Programa de hermanamiento de laboratorios para el análisis de contaminantes orgánicos persistentes",
               "fr": "Programme de jumelage de laboratoires pour l'analyse des polluants organiques persistants"},
        description={
            "en": "Pairs public laboratories in developing countries with experienced POPs laboratories for twelve months "
                  "of training, method transfer and proficiency testing.",
            "es": "Empareja laboratorios públicos de países en desarrollo con laboratorios de COP con experiencia durante "
                  "doce meses de capacitación, transferencia de métodos y ensayos de aptitud.",
            "fr": "Associe des laboratoires publics de pays en développement à des laboratoires expérimentés dans "
                  "l'analyse des POP pendant douze mois de formation, de transfert de méthodes et d'essais d'aptitude."},
        keywords={"en": ["laboratory", "twinning", "technical assistance", "Global Monitoring Plan"],
                  "es": ["laboratorio", "hermanamiento", "asistencia técnica"],
                  "fr": ["laboratoire", "jumelage", "assistance technique"]},
        chemicals=["pcb", "ddt", "hcb", "pcdd", "pcdf", "pfos"], articles=[12, 16],
        regions=["africa", "grulac", "asia_pacific"], languages=["en", "es", "fr"],
        dates={"issued": "2023-10-02", "valid_until": "2024-03-31"}, publisher="Global POPs Laboratory Network",
        rights=RIGHTS_CC_BY, links_override=[{"url": f"{CHM}/assistance/laboratory-twinning", "rel": "landing"}],
        assistance={
            "kind": ["technical"], "provider": "Global POPs Laboratory Network",
            "eligible_regions": ["africa", "grulac", "asia_pacific"],
            "activities": ["pairing with an experienced laboratory for 12 months",
                           "training in sampling and analysis of the core POPs",
                           "provision of reference standards",
                           "participation in interlaboratory assessments"],
            "conditions": {
                "en": "Open to public laboratories in developing-country Parties that analyse, or plan to analyse, POPs in "
                      "environmental or human samples; the laboratory must commit staff time and report its results to "
                      "the Global Monitoring Plan.",
                "es": "Abierto a laboratorios públicos de Partes que son países en desarrollo y que analizan, o prevén "
                      "analizar, COP en muestras ambientales o humanas; el laboratorio debe dedicar personal y comunicar "
                      "sus resultados al Plan de vigilancia mundial.",
                "fr": "Ouvert aux laboratoires publics des Parties qui sont des pays en développement et qui analysent, ou "
                      "prévoient d'analyser, des POP dans des échantillons environnementaux ou humains ; le laboratoire "
                      "doit consacrer du personnel au programme et communiquer ses résultats au Plan de surveillance "
                      "mondiale."},
            "contact": "twinning@labs.chm.example.org", "deadline": "2024-03-31", "status": "closed"},
    ),
    dict(
        local="assistance-pcb-esm-south-south", datestamp="2025-07-21T03:16:49Z", type="assistance_source", pops=True,
        title={"zh": "多氯联苯环境无害化管理技术援助（南南合作）",
               "en": "Technical Assistance for the Environmentally Sound Management of PCB (South–South Cooperation)"},
        description={
            "zh": "为非洲和亚太地区的发展中国家缔约方提供多氯联苯（PCB）清单编制、含多氯联苯设备的标识与临时储存、"
                  "变压器油脱氯以及处置方案评估方面的技术援助。",
            "en": "Technical assistance for developing-country Parties in Africa and Asia-Pacific on PCB inventories, "
                  "labelling and interim storage of PCB equipment, dechlorination of transformer oil and assessment of "
                  "disposal options."},
        keywords={"zh": ["多氯联苯", "技术援助", "南南合作", "环境无害化管理"],
                  "en": ["PCB", "technical assistance", "South–South cooperation", "environmentally sound management"]},
        chemicals=["pcb"], articles=[12], regions=["africa", "asia_pacific"], languages=["zh", "en"],
        dates={"issued": "2025-07-15"}, publisher="Regional Centre for Capacity Building and Technology Transfer",
        rights=RIGHTS_CC_BY, links_override=[{"url": f"{CHM}/assistance/pcb-esm-south-south", "rel": "landing"}],
        assistance={
            "kind": ["technical"], "provider": "Regional Centre for Capacity Building and Technology Transfer",
            "eligible_regions": ["africa", "asia_pacific"],
            "activities": ["online and on-site training on PCB inventories",
                           "labelling and interim storage of PCB equipment",
                           "pilot dechlorination of transformer oil",
                           "assessment of disposal options"],
            "conditions": {
                "zh": "面向非洲和亚太地区的发展中国家缔约方；须由国家联络点提出申请；受援方负责提供当地后勤和对口人员。",
                "en": "For developing-country Parties in Africa and Asia-Pacific; requests must come from the national "
                      "focal point; the beneficiary provides local logistics and counterpart staff."},
            "contact": "south-south@rc.chm.example.org", "deadline": "2026-12-31", "status": "open"},
    ),
    dict(
        local="request-pcb-disposal", datestamp="2025-05-14T09:27:36Z", type="assistance_request", pops=True,
        title={"en": "Request for Assistance: Environmentally Sound Disposal of PCB-Contaminated Transformers and Oils"},
        description={"en": "Kenya seeks technical and financial assistance to eliminate the PCB-contaminated equipment "
                           "identified in the 2020 national inventory before the 2028 deadline in Part II of Annex A. "
                           "Estimated cost USD 6.4 million, of which USD 1.1 million is national co-financing. A partner "
                           "has agreed to fund the first phase (labelling and interim storage); disposal is not yet "
                           "funded."},
        keywords={"en": ["assistance request", "PCB disposal", "transformers", "2028 deadline"]},
        chemicals=["pcb"], articles=[12, 13], countries=["KE"], regions=["africa"], languages=["en"],
        dates={"issued": "2025-04-30"}, creators=[MINISTRY], publisher=MINISTRY, rights=RIGHTS_PUBLIC,
        links_override=[{"url": landing("request-pcb-disposal"), "rel": "landing"}],
        assistance={
            "kind": ["technical", "financial"],
            "provider": "Government of Kenya, Ministry of Environment, Climate Change and Forestry",
            "activities": ["packaging and transport of about 1,150 tonnes of PCB-contaminated equipment and oil",
                           "export for destruction or in-country dechlorination",
                           "decontamination of two interim storage sites",
                           "training of utility staff"],
            "contact": "pops-focal-point@environment.go.ke.example", "deadline": "2028-12-31",
            "status": "in_progress"},
    ),
    dict(
        local="request-pfos-foams", datestamp="2025-10-09T12:41:58Z", type="assistance_request", pops=True,
        title={"en": "Request for Assistance: Identification and Destruction of PFOS-Containing Firefighting Foams",
               "fr": "Demande d'assistance : identification et destruction des mousses anti-incendie contenant du PFOS"},
        description={
            "en": "Kenya requests technical assistance to confirm which of the 212 tonnes of foam concentrate identified in "
                  "2023 contain PFOS, PFOA or PFHxS, to collect them in safe interim storage and to destroy them, and to "
                  "assess soil and groundwater at two fire training grounds.",
            "fr": "Le Kenya demande une assistance technique pour déterminer lesquelles des 212 tonnes de concentré de "
                  "mousse recensées en 2023 contiennent du PFOS, du PFOA ou du PFHxS, les regrouper dans un entreposage "
                  "provisoire sûr et les détruire, et évaluer la contamination des sols et des eaux souterraines sur deux "
                  "terrains d'entraînement à la lutte contre l'incendie."},
        keywords={"en": ["assistance request", "PFOS", "firefighting foams", "destruction"],
                  "fr": ["demande d'assistance", "PFOS", "mousses anti-incendie"]},
        chemicals=["pfos", "pfoa", "pfhxs"], articles=[12], countries=["KE"], regions=["africa"],
        languages=["en", "fr"], dates={"issued": "2025-10-01"}, creators=[MINISTRY], publisher=MINISTRY,
        rights=RIGHTS_PUBLIC, links_override=[{"url": landing("request-pfos-foams"), "rel": "landing"}],
        assistance={
            "kind": ["technical"],
            "provider": "Government of Kenya, Ministry of Environment, Climate Change and Forestry",
            "activities": ["laboratory screening of foam stocks", "collection and interim storage",
                           "destruction in a facility meeting the Basel Convention technical guidelines",
                           "site assessment at two fire training grounds"],
            "contact": "pops-focal-point@environment.go.ke.example", "deadline": "2027-06-30",
            "status": "submitted"},
    ),
]

# Deleted records: header only. `formats` lists the ListRecords blocks that carry the tombstone.
DELETED = [
    dict(local="nip-2025-draft", datestamp="2025-11-04T13:06:10Z", type="national_implementation_plan",
         formats=["oai_dc"]),
    dict(local="assistance-ea-small-grants-2025", datestamp="2026-03-02T08:00:05Z", type="assistance_source",
         formats=["oai_dc", "pops"]),
]


# ----------------------------------------------------------------------------- records -> POPs records

def links_for(r: dict) -> list[dict]:
    if "links_override" in r:
        return r["links_override"]
    out = [{"url": landing(r["local"]), "rel": "landing"}]
    for lang in r.get("files", []):
        link = {"url": pdf(r["local"], lang), "rel": "file", "format": "application/pdf"}
        if lang:
            link["language"] = lang
        elif len(r["languages"]) == 1:
            link["language"] = r["languages"][0]
        out.append(link)
    return out


def full_record(r: dict) -> dict:
    """The POPs record as the Kenya node serves it in the pops format."""
    ident = oai_id(r["local"])
    dates = r.get("dates", {})
    year = dates.get("issued") or dates.get("created")
    rec = {
        "id": make_id(NODE, SOURCE, ident),
        "origin": {"node": NODE, "source": SOURCE, "identifier": ident, "format": "pops"},
        "path": [NODE],
        "datestamp": r["datestamp"],
        "title": r["title"],
        "description": r.get("description"),
        "keywords": r.get("keywords"),
        "type": r["type"],
        "chemicals": r.get("chemicals"),
        "articles": r.get("articles"),
        "countries": r.get("countries"),
        "regions": r.get("regions"),
        "languages": r.get("languages"),
        "dates": dates or None,
        "year": int(year[:4]) if year else None,
        "creators": r.get("creators"),
        "publisher": r.get("publisher"),
        "links": links_for(r),
        "rights": r.get("rights"),
        "assistance": r.get("assistance"),
    }
    return {k: v for k, v in rec.items() if v not in (None, [], {})}


# ----------------------------------------------------------------------------- the static repository

SR = "http://www.openarchives.org/OAI/2.0/static-repository"
OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_ID = "http://www.openarchives.org/OAI/2.0/oai-identifier"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def sub(parent, ns, tag, text=None, **attrs):
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", {k.replace("__", ":"): v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def header(parent, local: str, datestamp: str, doc_type: str, deleted: bool = False):
    h = sub(parent, OAI, "header", **({"status": "deleted"} if deleted else {}))
    sub(h, OAI, "identifier", oai_id(local))
    sub(h, OAI, "datestamp", datestamp)
    sub(h, OAI, "setSpec", f"type:{doc_type}")
    return h


def oai_dc(parent, r: dict):
    dc = etree.SubElement(parent, f"{{{OAI_DC}}}dc",
                          {f"{{{XSI}}}schemaLocation": f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"})
    multi = len(r["title"]) > 1

    def lang_attrs(lang):
        return {XML_LANG: lang} if multi else {}

    for lang, text in r["title"].items():
        etree.SubElement(dc, f"{{{DC}}}title", lang_attrs(lang)).text = text
    for c in r.get("creators", []):
        sub(dc, DC, "creator", c)
    for lang, words in r.get("keywords", {}).items():
        for w in words:
            etree.SubElement(dc, f"{{{DC}}}subject", lang_attrs(lang)).text = w
    for cid in r.get("chemicals", []):
        sub(dc, DC, "subject", CHEMICAL_NAMES[cid])
    for lang, text in r.get("description", {}).items():
        etree.SubElement(dc, f"{{{DC}}}description", lang_attrs(lang)).text = text
    if r.get("publisher"):
        sub(dc, DC, "publisher", r["publisher"])
    d = r.get("dates", {})
    if d.get("issued") or d.get("created"):
        sub(dc, DC, "date", d.get("issued") or d.get("created"))
    if r["type"] not in NOT_TEXT:
        sub(dc, DC, "type", "Text")
    sub(dc, DC, "type", TYPE_LABELS[r["type"]])
    links = links_for(r)
    if any(l.get("rel") == "file" for l in links):
        sub(dc, DC, "format", "application/pdf")
    sub(dc, DC, "identifier", links[0]["url"])
    for l in links[1:]:
        sub(dc, DC, "relation", l["url"])
    for lang in r.get("dc_language", r["languages"]):
        sub(dc, DC, "language", lang)
    for c in r.get("countries", []):
        sub(dc, DC, "coverage", COUNTRY_NAMES[c])
    if not r.get("countries"):
        for reg in r.get("regions", []):
            sub(dc, DC, "coverage", REGION_NAMES[reg])
    if r.get("rights"):
        sub(dc, DC, "rights", r["rights"])
    return dc


def build_static_repository() -> bytes:
    root = etree.Element(f"{{{SR}}}Repository", nsmap={None: SR, "oai": OAI, "xsi": XSI},
                         attrib={f"{{{XSI}}}schemaLocation": f"{SR} http://www.openarchives.org/OAI/2.0/static-repository.xsd "
                                                             f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"})
    root.append(etree.Comment(
        " Kenya, Ministry of Environment: POPs clearing-house documents (illustrative sample content). "
        "Laid out as an OAI static repository; it also carries deleted records, setSpecs and datestamps of "
        "seconds granularity, which the strict static-repository profile does not allow. "))
    stamps = sorted([r["datestamp"] for r in RECORDS] + [d["datestamp"] for d in DELETED])

    ident = sub(root, SR, "Identify")
    sub(ident, OAI, "repositoryName", "Kenya Ministry of Environment: Stockholm Convention clearing-house documents")
    sub(ident, OAI, "baseURL", "https://gateway.chm.example.org/oai/www.environment.go.ke.example/chm/ke-moe-oai.xml")
    sub(ident, OAI, "protocolVersion", "2.0")
    sub(ident, OAI, "adminEmail", "chm-admin@environment.go.ke.example")
    sub(ident, OAI, "earliestDatestamp", stamps[0])
    sub(ident, OAI, "deletedRecord", "persistent")
    sub(ident, OAI, "granularity", "YYYY-MM-DDThh:mm:ssZ")
    desc = sub(ident, OAI, "description")
    oid = etree.SubElement(desc, f"{{{OAI_ID}}}oai-identifier", nsmap={None: OAI_ID},
                           attrib={f"{{{XSI}}}schemaLocation": f"{OAI_ID} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"})
    sub(oid, OAI_ID, "scheme", "oai")
    sub(oid, OAI_ID, "repositoryIdentifier", REPO_ID)
    sub(oid, OAI_ID, "delimiter", ":")
    sub(oid, OAI_ID, "sampleIdentifier", oai_id("nip-2025"))

    lmf = sub(root, SR, "ListMetadataFormats")
    for prefix, schema_url, ns in (("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
                                   ("pops", f"{CHM}/schemas/pops.xsd", popsxml.NS)):
        mf = sub(lmf, OAI, "metadataFormat")
        sub(mf, OAI, "metadataPrefix", prefix)
        sub(mf, OAI, "schema", schema_url)
        sub(mf, OAI, "metadataNamespace", ns)

    for prefix in ("oai_dc", "pops"):
        lr = sub(root, SR, "ListRecords", metadataPrefix=prefix)
        entries = [("rec", r) for r in RECORDS if prefix == "oai_dc" or r.get("pops")]
        entries += [("del", d) for d in DELETED if prefix in d["formats"]]
        for kind, r in sorted(entries, key=lambda e: e[1]["datestamp"]):
            rec = sub(lr, OAI, "record")
            header(rec, r["local"], r["datestamp"], r["type"], deleted=(kind == "del"))
            if kind == "del":
                continue
            meta = sub(rec, OAI, "metadata")
            if prefix == "oai_dc":
                oai_dc(meta, r)
            else:
                meta.append(popsxml.to_element(validate(full_record(r))))
    etree.cleanup_namespaces(root, top_nsmap={"oai_dc": OAI_DC, "dc": DC, "pops": popsxml.NS})
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)


# ----------------------------------------------------------------------------- ISO 19139

GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"
GML = "http://www.opengis.net/gml/3.2"
CODELISTS = "http://standards.iso.org/iso/19139/resources/gmxCodelists.xml"
KENYA_BBOX = (33.90, 41.91, -4.72, 5.03)   # west, east, south, north

ISO_RECORDS = [
    dict(
        file="ke-pops-air-monitoring-network.xml", date_stamp="2024-01-22T10:14:05",
        title="Kenya POPs air monitoring network: passive sampling sites and concentrations, 2017–2022",
        title_fr="Réseau kényan de surveillance des POP dans l'air : sites d'échantillonnage passif et concentrations, 2017-2022",
        abstract="Locations of the passive air sampling sites of the national POPs monitoring network (one high-altitude "
                 "background site on Mount Kenya, urban and industrial sites in Nairobi and Mombasa, an agricultural site "
                 "near Kisumu) with three-monthly concentrations of PCB, organochlorine pesticides, PBDEs and PFAS measured "
                 "with polyurethane foam disks and sorbent-impregnated disks. Data reported to the Global Monitoring Plan.",
        abstract_fr="Emplacement des sites d'échantillonnage passif de l'air du réseau national de surveillance des POP "
                    "(un site de fond en altitude sur le mont Kenya, des sites urbains et industriels à Nairobi et Mombasa, "
                    "un site agricole près de Kisumu) avec les concentrations trimestrielles de PCB, de pesticides "
                    "organochlorés, de PBDE et de PFAS mesurées à l'aide de disques de mousse de polyuréthane et de disques "
                    "imprégnés de sorbant. Données communiquées au Plan de surveillance mondiale.",
        keywords=["persistent organic pollutants", "air quality", "passive air sampling", "Global Monitoring Plan",
                  "PCB", "DDT", "PBDE", "PFOS"],
        inspire="Environmental monitoring facilities", places=["Kenya", "Nairobi", "Mombasa", "Mount Kenya"],
        topics=["environment", "climatologyMeteorologyAtmosphere"],
        dates=[("creation", "2017-03-01"), ("revision", "2024-01-15")], temporal=("2017-01-01", "2022-12-31"),
        bbox=KENYA_BBOX, countries=["KE"],
        online=[("https://maps.environment.go.ke.example/geoserver/pops/wms", "OGC:WMS", "pops:air_sampling_sites",
                 "Web map service of the sampling sites"),
                ("https://data.environment.go.ke.example/dataset/pops-passive-air-sampling-2017-2022/resource/air-concentrations.csv",
                 "WWW:DOWNLOAD-1.0-http--download", "air-concentrations.csv", "Concentrations per site and period (CSV)"),
                ("https://data.environment.go.ke.example/dataset/pops-passive-air-sampling-2017-2022",
                 "WWW:LINK-1.0-http--link", "Dataset page", "Landing page in the national data portal")],
        lineage="Sites operated by the Government Chemist Department with NEMA since 2017; samplers exchanged every three "
                "months and analysed by GC-MS/MS (PCB, OCPs, PBDEs) and LC-MS/MS (PFAS) following the GMP guidance.",
    ),
    dict(
        file="ke-obsolete-pesticide-stores.xml", date_stamp="2020-08-03T07:45:12",
        title="Contaminated sites: obsolete pesticide stores in Kenya",
        abstract="Point locations and risk ranking of 57 stores holding obsolete pesticides or contaminated soil, from the "
                 "2020 national inventory: quantities of POPs pesticides (DDT, dieldrin, aldrin, lindane, endosulfan), "
                 "store condition, distance to water and dwellings, and safeguarding status. Exact coordinates of "
                 "high-risk stores are generalised to 1 km.",
        keywords=["obsolete pesticides", "contaminated sites", "POPs pesticides", "DDT", "dieldrin", "lindane",
                  "stockpiles", "risk ranking"],
        inspire="Area management/restriction/regulation zones and reporting units", places=["Kenya"],
        topics=["environment", "health", "farming"],
        dates=[("creation", "2020-06-30"), ("publication", "2020-07-31")], temporal=("2018-09-01", "2020-05-31"),
        bbox=KENYA_BBOX, countries=["KE"],
        online=[("https://maps.environment.go.ke.example/geoserver/pops/wms", "OGC:WMS", "pops:obsolete_pesticide_stores",
                 "Web map service of the stores"),
                ("https://data.environment.go.ke.example/dataset/obsolete-pesticide-stores/resource/stores.geojson",
                 "WWW:DOWNLOAD-1.0-http--download", "stores.geojson", "Store locations and attributes (GeoJSON)")],
        lineage="Field inventory by the Pest Control Products Board and NEMA with county agricultural officers, 2018–2020; "
                "positions recorded by handheld GNSS.",
    ),
    dict(
        file="ke-dioxin-release-sources.xml", date_stamp="2021-02-15T12:30:48",
        title="Sources of unintentional releases of dioxins and furans (PCDD/PCDF) in Kenya",
        abstract="Map of the main sources of unintentionally produced POPs identified in the national release inventory: "
                 "open burning at 31 county dumpsites, 44 health-care waste incinerators, cement kilns, steel mills and "
                 "secondary metal smelters, with the estimated annual release in g TEQ by source category of the UNEP "
                 "Toolkit.",
        keywords=["dioxins", "furans", "PCDD/PCDF", "unintentional POPs", "open burning", "incinerators",
                  "release inventory"],
        inspire="Production and industrial facilities", places=["Kenya"], topics=["environment", "utilitiesCommunication"],
        dates=[("creation", "2019-07-31"), ("revision", "2021-02-10")], temporal=("2017-01-01", "2018-12-31"),
        bbox=KENYA_BBOX, countries=["KE"],
        online=[("https://maps.environment.go.ke.example/geoserver/pops/wms", "OGC:WMS", "pops:pcdd_pcdf_sources",
                 "Web map service of the release sources"),
                ("https://data.environment.go.ke.example/dataset/pcdd-pcdf-release-sources/resource/sources.csv",
                 "WWW:DOWNLOAD-1.0-http--download", "sources.csv", "Sources and estimated releases (CSV)")],
        lineage="Activity data collected for the 2019 release inventory and updated in 2021; emission factors from the "
                "UNEP Toolkit for identification and quantification of releases.",
    ),
    dict(
        file="ke-pcb-equipment-by-county.xml", date_stamp="2021-01-11T09:05:27",
        title="PCB-containing electrical equipment by county, 2020 inventory",
        abstract="Number and weight of transformers and capacitors screened for polychlorinated biphenyls (PCB) in each of "
                 "the 47 counties, with the share confirmed above 50 mg/kg and the tonnage of equipment and oil to be "
                 "eliminated by 2028. Aggregated by county: the locations of individual equipment are not published.",
        keywords=["PCB", "polychlorinated biphenyls", "transformers", "capacitors", "inventory", "counties"],
        inspire="Utility and governmental services", places=["Kenya"], topics=["environment", "utilitiesCommunication"],
        dates=[("publication", "2020-12-01")], temporal=("2018-01-01", "2020-09-30"),
        bbox=KENYA_BBOX, countries=["KE"],
        online=[("https://data.environment.go.ke.example/dataset/pcb-equipment-inventory-2020/resource/pcb-by-county.csv",
                 "WWW:DOWNLOAD-1.0-http--download", "pcb-by-county.csv", "Equipment counts by county (CSV)"),
                ("https://maps.environment.go.ke.example/geoserver/pops/wms", "OGC:WMS", "pops:pcb_by_county",
                 "Choropleth map by county")],
        lineage="Compiled from the national PCB inventory (NEMA, 2018–2020): nameplate survey, chlorine screening and "
                "GC confirmation of a subset of samples.",
    ),
    dict(
        file="lake-victoria-pops-sediments-fish.xml", date_stamp="2022-05-30T14:22:10",
        title="POPs in sediments and fish of the Lake Victoria basin, 2018–2021",
        abstract="Concentrations of organochlorine pesticides (DDT and metabolites, dieldrin, endosulfan, lindane), PCB "
                 "and PBDEs in surface sediments and in Nile perch and tilapia from 36 stations in the Kenyan, Ugandan "
                 "and Tanzanian waters of Lake Victoria, collected in a joint survey of the three riparian countries.",
        keywords=["Lake Victoria", "sediments", "fish", "DDT", "PCB", "organochlorine pesticides", "monitoring"],
        inspire="Environmental monitoring facilities", places=["Lake Victoria", "Kenya", "Uganda", "United Republic of Tanzania"],
        topics=["environment", "inlandWaters", "biota"],
        dates=[("creation", "2021-10-15"), ("publication", "2022-05-27")], temporal=("2018-06-01", "2021-03-31"),
        bbox=(31.52, 34.88, -3.05, 0.55), countries=["KE", "UG", "TZ"],
        online=[("https://data.environment.go.ke.example/dataset/lake-victoria-pops/resource/sediment-fish.csv",
                 "WWW:DOWNLOAD-1.0-http--download", "sediment-fish.csv", "Results per station and sample (CSV)"),
                ("https://data.environment.go.ke.example/dataset/lake-victoria-pops", "WWW:LINK-1.0-http--link",
                 "Dataset page", "Landing page in the national data portal")],
        lineage="Joint survey of the fisheries research institutes of the three riparian countries; analysis by GC-ECD "
                "with GC-MS confirmation at a reference laboratory.",
    ),
]


def gsub(parent, ns, tag, **attrs):
    return etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)


def cs(parent, tag, text):
    el = gsub(parent, GMD, tag)
    gsub(el, GCO, "CharacterString").text = text
    return el


def free_text(parent, tag, text, fr):
    if not fr:
        return cs(parent, tag, text)
    el = gsub(parent, GMD, tag, **{f"{{{XSI}}}type": "gmd:PT_FreeText_PropertyType"})
    gsub(el, GCO, "CharacterString").text = text
    pt = gsub(el, GMD, "PT_FreeText")
    for loc, t in (("#EN", text), ("#FR", fr)):
        gsub(gsub(pt, GMD, "textGroup"), GMD, "LocalisedCharacterString", locale=loc).text = t
    return el


def code(parent, tag, codelist, value, text=None):
    el = gsub(gsub(parent, GMD, tag), GMD, codelist, codeList=f"{CODELISTS}#{codelist}", codeListValue=value)
    el.text = text if text is not None else value
    return el


def language(parent, tag, value):
    el = gsub(gsub(parent, GMD, tag), GMD, "LanguageCode", codeList="http://www.loc.gov/standards/iso639-2/",
              codeListValue=value)
    el.text = value
    return el


def party(parent, tag, org, position, email, role):
    rp = gsub(gsub(parent, GMD, tag), GMD, "CI_ResponsibleParty")
    cs(rp, "organisationName", org)
    cs(rp, "positionName", position)
    ci = gsub(gsub(rp, GMD, "contactInfo"), GMD, "CI_Contact")
    addr = gsub(gsub(ci, GMD, "address"), GMD, "CI_Address")
    cs(addr, "city", "Nairobi")
    cs(addr, "country", "Kenya")
    cs(addr, "electronicMailAddress", email)
    code(rp, "role", "CI_RoleCode", role)


def iso_document(d: dict) -> bytes:
    root = etree.Element(f"{{{GMD}}}MD_Metadata",
                         nsmap={"gmd": GMD, "gco": GCO, "gml": GML, "xsi": XSI},
                         attrib={f"{{{XSI}}}schemaLocation": f"{GMD} http://schemas.opengis.net/iso/19139/20070417/gmd/gmd.xsd"})
    file_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://data.environment.go.ke.example/metadata/{d['file']}"))
    cs(root, "fileIdentifier", file_id)
    language(root, "language", "eng")
    code(root, "characterSet", "MD_CharacterSetCode", "utf8")
    code(root, "hierarchyLevel", "MD_ScopeCode", "dataset")
    party(root, "contact", NEMA, "POPs data manager", "pops-data@environment.go.ke.example", "pointOfContact")
    gsub(gsub(root, GMD, "dateStamp"), GCO, "DateTime").text = d["date_stamp"]
    cs(root, "metadataStandardName", "ISO 19115:2003/19139")
    cs(root, "metadataStandardVersion", "1.0")
    if d.get("title_fr"):
        for loc_id, lang in (("EN", "eng"), ("FR", "fre")):
            loc = gsub(gsub(root, GMD, "locale"), GMD, "PT_Locale", id=loc_id)
            language(loc, "languageCode", lang)
            code(loc, "characterEncoding", "MD_CharacterSetCode", "utf8")

    ident = gsub(gsub(root, GMD, "identificationInfo"), GMD, "MD_DataIdentification")
    cit = gsub(gsub(ident, GMD, "citation"), GMD, "CI_Citation")
    free_text(cit, "title", d["title"], d.get("title_fr"))
    for kind, value in d["dates"]:
        cd = gsub(gsub(cit, GMD, "date"), GMD, "CI_Date")
        gsub(gsub(cd, GMD, "date"), GCO, "Date").text = value
        code(cd, "dateType", "CI_DateTypeCode", kind)
    rid = gsub(gsub(cit, GMD, "identifier"), GMD, "MD_Identifier")
    cs(rid, "code", f"https://data.environment.go.ke.example/id/{file_id}")
    free_text(ident, "abstract", d["abstract"], d.get("abstract_fr"))
    code(ident, "status", "MD_ProgressCode", "completed")
    party(ident, "pointOfContact", NEMA, "Directorate of Environmental Compliance",
          "pops-data@environment.go.ke.example", "custodian")
    code(gsub(gsub(ident, GMD, "resourceMaintenance"), GMD, "MD_MaintenanceInformation"),
         "maintenanceAndUpdateFrequency", "MD_MaintenanceFrequencyCode", "irregular")

    kw = gsub(gsub(ident, GMD, "descriptiveKeywords"), GMD, "MD_Keywords")
    for k in d["keywords"]:
        cs(kw, "keyword", k)
    code(kw, "type", "MD_KeywordTypeCode", "theme")
    kw = gsub(gsub(ident, GMD, "descriptiveKeywords"), GMD, "MD_Keywords")
    cs(kw, "keyword", d["inspire"])
    code(kw, "type", "MD_KeywordTypeCode", "theme")
    th = gsub(gsub(kw, GMD, "thesaurusName"), GMD, "CI_Citation")
    cs(th, "title", "GEMET - INSPIRE themes, version 1.0")
    cd = gsub(gsub(th, GMD, "date"), GMD, "CI_Date")
    gsub(gsub(cd, GMD, "date"), GCO, "Date").text = "2008-06-01"
    code(cd, "dateType", "CI_DateTypeCode", "publication")
    kw = gsub(gsub(ident, GMD, "descriptiveKeywords"), GMD, "MD_Keywords")
    for p in d["places"]:
        cs(kw, "keyword", p)
    code(kw, "type", "MD_KeywordTypeCode", "place")

    lc = gsub(gsub(ident, GMD, "resourceConstraints"), GMD, "MD_LegalConstraints")
    cs(lc, "useLimitation", "Illustrative sample data; not for operational use.")
    code(lc, "accessConstraints", "MD_RestrictionCode", "otherRestrictions")
    cs(lc, "otherConstraints", "Creative Commons Attribution 4.0 International (CC BY 4.0)")
    code(ident, "spatialRepresentationType", "MD_SpatialRepresentationTypeCode", "vector")
    language(ident, "language", "eng")
    code(ident, "characterSet", "MD_CharacterSetCode", "utf8")
    for t in d["topics"]:
        gsub(gsub(ident, GMD, "topicCategory"), GMD, "MD_TopicCategoryCode").text = t

    ext = gsub(gsub(ident, GMD, "extent"), GMD, "EX_Extent")
    west, east, south, north = d["bbox"]
    bb = gsub(gsub(ext, GMD, "geographicElement"), GMD, "EX_GeographicBoundingBox")
    for tag, v in (("westBoundLongitude", west), ("eastBoundLongitude", east),
                   ("southBoundLatitude", south), ("northBoundLatitude", north)):
        gsub(gsub(bb, GMD, tag), GCO, "Decimal").text = f"{v:.2f}"
    for c in d["countries"]:
        gd = gsub(gsub(ext, GMD, "geographicElement"), GMD, "EX_GeographicDescription")
        mi = gsub(gsub(gd, GMD, "geographicIdentifier"), GMD, "MD_Identifier")
        auth = gsub(gsub(mi, GMD, "authority"), GMD, "CI_Citation")
        cs(auth, "title", "ISO 3166-1 alpha-2 country codes")
        acd = gsub(gsub(auth, GMD, "date"), GMD, "CI_Date")
        gsub(gsub(acd, GMD, "date"), GCO, "Date").text = "2020-08-01"
        code(acd, "dateType", "CI_DateTypeCode", "publication")
        cs(mi, "code", c)
    begin, end = d["temporal"]
    tp = gsub(gsub(gsub(gsub(ext, GMD, "temporalElement"), GMD, "EX_TemporalExtent"), GMD, "extent"), GML,
              "TimePeriod", **{f"{{{GML}}}id": "tp-" + file_id[:8]})
    gsub(tp, GML, "beginPosition").text = begin
    gsub(tp, GML, "endPosition").text = end

    dist = gsub(gsub(root, GMD, "distributionInfo"), GMD, "MD_Distribution")
    fmt = gsub(gsub(dist, GMD, "distributionFormat"), GMD, "MD_Format")
    cs(fmt, "name", "CSV")
    cs(fmt, "version", "RFC 4180")
    dto = gsub(gsub(dist, GMD, "transferOptions"), GMD, "MD_DigitalTransferOptions")
    for url, protocol, name, description in d["online"]:
        res = gsub(gsub(dto, GMD, "onLine"), GMD, "CI_OnlineResource")
        gsub(gsub(res, GMD, "linkage"), GMD, "URL").text = url
        cs(res, "protocol", protocol)
        cs(res, "name", name)
        cs(res, "description", description)

    dq = gsub(gsub(root, GMD, "dataQualityInfo"), GMD, "DQ_DataQuality")
    code(gsub(gsub(dq, GMD, "scope"), GMD, "DQ_Scope"), "level", "MD_ScopeCode", "dataset")
    cs(gsub(gsub(dq, GMD, "lineage"), GMD, "LI_Lineage"), "statement", d["lineage"])
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)


# ----------------------------------------------------------------------------- checks

def check() -> list[str]:
    """Parse every sample file and validate what can be validated; return one line per finding."""
    from harvester.record import problems

    out = []
    data = (HERE / "ke-moe-oai.xml").read_bytes()
    root = etree.fromstring(data)
    assert root.tag == f"{{{SR}}}Repository", root.tag
    ident = root.find(f"{{{SR}}}Identify")
    granularity = ident.findtext(f"{{{OAI}}}granularity")
    pops_schema = etree.XMLSchema(etree.parse(str(ROOT / "schemas" / "pops.xsd")))
    oai_xsd = ROOT.parent / "shared" / "corpus" / "other" / "schemas" / "OAI-PMH.xsd"
    oai_schema = etree.XMLSchema(etree.parse(str(oai_xsd))) if oai_xsd.exists() else None
    counts = {}
    for lr in root.findall(f"{{{SR}}}ListRecords"):
        prefix = lr.get("metadataPrefix")
        recs = lr.findall(f"{{{OAI}}}record")
        deleted = 0
        for rec in recs:
            h = rec.find(f"{{{OAI}}}header")
            ident_text = h.findtext(f"{{{OAI}}}identifier")
            stamp = h.findtext(f"{{{OAI}}}datestamp")
            if not ident_text or not stamp:
                out.append(f"{prefix}: record at line {rec.sourceline} lacks identifier or datestamp")
            if granularity == "YYYY-MM-DDThh:mm:ssZ" and len(stamp or "") != 20:
                out.append(f"{prefix}: {ident_text}: datestamp {stamp!r} does not match the granularity")
            meta = rec.find(f"{{{OAI}}}metadata")
            if h.get("status") == "deleted":
                deleted += 1
                if meta is not None:
                    out.append(f"{prefix}: deleted record {ident_text} carries metadata")
                continue
            if meta is None:
                out.append(f"{prefix}: {ident_text} has no metadata")
                continue
            payload = meta[0]
            if prefix == "pops":
                if not pops_schema.validate(etree.ElementTree(payload)):
                    out.append(f"pops: {ident_text}: pops.xsd: {pops_schema.error_log.last_error}")
                rec_dict = popsxml.from_element(payload)
                for p in problems(rec_dict):
                    out.append(f"pops: {ident_text}: {p}")
                if rec_dict["origin"]["identifier"] != ident_text or rec_dict["datestamp"] != stamp:
                    out.append(f"pops: {ident_text}: origin identifier or datestamp differs from the OAI header")
        counts[prefix] = (len(recs), deleted)
        if oai_schema is not None:
            # The records of one ListRecords block, wrapped as an OAI-PMH response, must be valid OAI-PMH.
            wrapper = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI})
            etree.SubElement(wrapper, f"{{{OAI}}}responseDate").text = "2026-11-23T00:00:00Z"
            etree.SubElement(wrapper, f"{{{OAI}}}request", verb="ListRecords", metadataPrefix=prefix).text = \
                "https://gateway.chm.example.org/oai/www.environment.go.ke.example/chm/ke-moe-oai.xml"
            body = etree.SubElement(wrapper, f"{{{OAI}}}ListRecords")
            for rec in recs:
                body.append(etree.fromstring(etree.tostring(rec)))
            if not oai_schema.validate(wrapper):
                out.append(f"{prefix}: OAI-PMH.xsd: {oai_schema.error_log.last_error}")
    for iso in sorted((HERE / "iso").glob("*.xml")):
        doc = etree.parse(str(iso)).getroot()
        if doc.tag != f"{{{GMD}}}MD_Metadata":
            out.append(f"{iso.name}: root is not gmd:MD_Metadata")
    import rdflib
    g = rdflib.Graph().parse(str(HERE / "ke-data-dcat.ttl"), format="turtle")
    DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    datasets = set(g.subjects(rdflib.RDF.type, DCAT.Dataset))
    counts["dcat datasets"] = len(datasets)
    counts["iso files"] = len(list((HERE / "iso").glob("*.xml")))
    print("counts:", counts)
    return out


def main(argv: list[str]) -> int:
    if "--check" not in argv:
        (HERE / "ke-moe-oai.xml").write_bytes(build_static_repository())
        (HERE / "iso").mkdir(exist_ok=True)
        for d in ISO_RECORDS:
            (HERE / "iso" / d["file"]).write_bytes(iso_document(d))
    findings = check()
    for f in findings:
        print("PROBLEM:", f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
