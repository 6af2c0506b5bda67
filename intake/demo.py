"""Default intake configuration for the demo: products, document types, checklists,
pre-screen rules and a small negative list. Idempotent."""

from decimal import Decimal

from applications.models import Product
from intake.models import ChecklistItem, DocumentType, NegativeListEntry, PrescreenRule

ALL_METHODS = ["equal_instalments", "equal_principal", "interest_only_bullet"]

PRODUCTS = {
    "SME-WC": {
        "name": "SME working capital loan",
        "name_zh": "小微企业流动资金贷款",
        "description": "For day-to-day running costs: stock, wages, rent and suppliers' bills.",
        "description_zh": "用于日常经营周转：备货、工资、租金和支付供应商货款。",
        "min_amount": Decimal("100000"),
        "max_amount": Decimal("5000000"),
        "min_term_months": 6,
        "max_term_months": 36,
        "min_rate": Decimal("3.450"),
        "max_rate": Decimal("8.000"),
        "repayment_methods": ALL_METHODS,
        "guarantee_types": ["credit", "guarantee", "mortgage", "pledge"],
    },
    "SME-EQ": {
        "name": "SME equipment loan",
        "name_zh": "小微企业设备贷款",
        "description": "To buy or upgrade production equipment, repaid from the income it brings.",
        "description_zh": "用于购置或更新生产设备，以设备带来的经营收入还款。",
        "min_amount": Decimal("200000"),
        "max_amount": Decimal("10000000"),
        "min_term_months": 12,
        "max_term_months": 60,
        "min_rate": Decimal("3.850"),
        "max_rate": Decimal("9.000"),
        "repayment_methods": ["equal_instalments", "equal_principal"],
        "guarantee_types": ["guarantee", "mortgage", "pledge"],
    },
    "SME-FT": {
        "name": "Fast small credit",
        "name_zh": "小微快贷",
        "description": "A small unsecured loan, decided quickly for companies with a good record.",
        "description_zh": "无需抵押担保的小额贷款，经营记录良好的企业可快速获批。",
        "min_amount": Decimal("10000"),
        "max_amount": Decimal("500000"),
        "min_term_months": 3,
        "max_term_months": 12,
        "min_rate": Decimal("4.000"),
        "max_rate": Decimal("12.000"),
        "repayment_methods": ALL_METHODS,
        "guarantee_types": ["credit"],
        "fast_track_eligible": True,
    },
}

# code, name, Chinese name, what to provide, what to provide in Chinese
DOCUMENT_TYPES = [
    (
        "business_licence",
        "Business licence",
        "营业执照",
        "A scan of the business licence.",
        "营业执照扫描件。",
    ),
    (
        "legal_rep_id",
        "Legal representative's ID card",
        "法定代表人身份证",
        "Both sides of the ID card.",
        "身份证正反面。",
    ),
    (
        "financial_statements",
        "Financial statements (last 2 years)",
        "近两年财务报表",
        "Balance sheet and income statement.",
        "资产负债表和利润表。",
    ),
    (
        "bank_statements",
        "Bank statements (last 6 months)",
        "近六个月银行流水",
        "Statements of the company's main account.",
        "企业主要结算账户的流水。",
    ),
    (
        "tax_returns",
        "Tax returns (last year)",
        "近一年纳税申报表",
        "VAT and income tax returns.",
        "增值税和所得税申报表。",
    ),
    (
        "property_certificate",
        "Property ownership certificate",
        "不动产权证书",
        "For a mortgage: the certificate of the pledged property.",
        "抵押贷款需提供：抵押房产的不动产权证书。",
    ),
    (
        "guarantor_id",
        "Guarantor's ID or licence",
        "保证人身份证明",
        "The ID card of a person, or the business licence of a company.",
        "个人提供身份证，企业提供营业执照。",
    ),
    (
        "purchase_contract",
        "Equipment purchase contract",
        "设备购买合同",
        "The signed contract or quotation for the equipment.",
        "已签订的设备购买合同或报价单。",
    ),
    (
        "site_photos",
        "Photos of the business premises",
        "经营场所照片",
        "The entrance, the shop floor or workshop, and the stock.",
        "经营场所门头、店面或车间以及库存的照片。",
    ),
]

# (name, Chinese name, kind, settings)
PRESCREEN_RULES = [
    (
        "At least 2 years in business",
        "成立满2年",
        "min_years_in_business",
        {"min_years": Decimal("2.0")},
    ),
    (
        "Excluded industries (real estate, coal mining)",
        "排除行业（房地产、煤炭开采）",
        "excluded_industries",
        {
            "industry_codes": "K70, B06",
            "description": "Not for real estate (K70) or coal mining (B06)",
            "description_zh": "不适用于房地产业（K70）和煤炭开采和洗选业（B06）",
        },
    ),
    ("Amount within the product", "金额在产品范围内", "amount_within_product", {}),
    ("Not on the negative list", "不在负面清单上", "negative_list", {}),
]

# (product, stage, document type, required, only for guarantee type, per guarantor)
CHECKLISTS = [
    ("SME-WC", "submit", "business_licence", True, "", False),
    ("SME-WC", "submit", "legal_rep_id", True, "", False),
    ("SME-WC", "submit", "financial_statements", True, "", False),
    ("SME-WC", "submit", "property_certificate", True, "mortgage", False),
    ("SME-WC", "submit", "guarantor_id", True, "", True),
    ("SME-WC", "start_investigation", "bank_statements", True, "", False),
    ("SME-WC", "start_investigation", "tax_returns", False, "", False),
    ("SME-EQ", "submit", "business_licence", True, "", False),
    ("SME-EQ", "submit", "legal_rep_id", True, "", False),
    ("SME-EQ", "submit", "purchase_contract", True, "", False),
    ("SME-EQ", "submit", "property_certificate", True, "mortgage", False),
    ("SME-EQ", "submit", "guarantor_id", True, "", True),
    ("SME-EQ", "start_investigation", "financial_statements", True, "", False),
    ("SME-FT", "submit", "business_licence", True, "", False),
    ("SME-FT", "submit", "legal_rep_id", True, "", False),
    ("SME-FT", "submit", "site_photos", False, "", False),
]


def seed() -> None:
    for code, fields in PRODUCTS.items():
        Product.objects.get_or_create(code=code, defaults=fields)
    types = {}
    for code, name, name_zh, description, description_zh in DOCUMENT_TYPES:
        types[code], _created = DocumentType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "description": description,
                "description_zh": description_zh,
            },
        )
    products = {p.code: p for p in Product.objects.filter(code__in=PRODUCTS)}
    for position, (product, stage, doc, required, only, per_guarantor) in enumerate(CHECKLISTS):
        ChecklistItem.objects.get_or_create(
            product=products[product],
            stage=stage,
            document_type=types[doc],
            defaults={
                "required": required,
                "only_for_guarantee_type": only,
                "per_guarantor": per_guarantor,
                "position": position,
            },
        )
    for name, name_zh, kind, extra in PRESCREEN_RULES:
        PrescreenRule.objects.get_or_create(
            name=name, kind=kind, defaults={"name_zh": name_zh, **extra}
        )
    entries = [
        (
            "company",
            "Shell Trading Fraud Co., Ltd.",
            "91110108MA0000001D",
            "",
            "Loan fraud, court ruling 2024",
        ),
        ("person", "张黑名", "", "110101197001010091", "Dishonest judgment debtor (失信被执行人)"),
    ]
    for kind, name, code, id_number, reason in entries:
        NegativeListEntry.objects.get_or_create(
            kind=kind,
            name=name,
            defaults={"credit_code": code, "id_number": id_number, "reason": reason},
        )
