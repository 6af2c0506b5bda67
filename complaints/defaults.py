"""The complaint categories a new database starts with (migration 0002; the demo too), in
both languages, close to the regulator's classification of banking consumer complaints.
Administrators change them in the admin afterwards."""

# code, English name, Chinese name
DEFAULT_CATEGORIES = [
    ("service", "Service and staff conduct", "服务态度及服务质量"),
    ("delay", "Processing time", "业务办理时效"),
    ("fees", "Fees and charges", "收费"),
    ("rate-and-terms", "Interest rate and contract terms", "利率及合同条款"),
    ("disclosure", "Information and transparency", "信息披露"),
    ("repayment", "Repayment and collection", "还款及催收"),
    ("privacy", "Personal information and credit records", "个人信息及征信"),
    ("other", "Other", "其他"),
]
