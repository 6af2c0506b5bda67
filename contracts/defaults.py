"""The default contract templates (version 1 of each kind and language, for every product),
seeded by migration 0002 and by the demo loader on a flushed database. Their variables are
what contracts.pdf.contract_context gives: application, company, offer, guarantor,
collateral, conditions, number, today, method_label."""

LOAN_EN = """<h1>Loan contract</h1>
<p>Contract number {{ number }}, made on {{ today|date:"Y-m-d" }}.</p>
<p><strong>Lender:</strong> the Bank. <strong>Borrower:</strong> {{ company.name }}
(unified social credit code {{ company.credit_code }}), represented by its legal
representative {{ company.legal_representative }}.</p>
<h2>1. The loan</h2>
<p>The Bank lends the Borrower {{ offer.amount }} {{ offer.currency }} for
{{ offer.term_months }} months at an annual interest rate of {{ offer.interest_rate }}%,
repaid by {{ method_label }}, for the purpose: {{ application.purpose }}.</p>
<h2>2. Conditions precedent</h2>
{% if conditions %}<ol>{% for c in conditions %}<li>{{ c.text }}</li>{% endfor %}</ol>
{% else %}<p>None.</p>{% endif %}
<h2>3. Security</h2>
{% if guarantors %}<p>Guaranteed by: {% for g in guarantors %}{{ g.name }}{% if not forloop.last %}; {% endif %}{% endfor %}.</p>{% endif %}
{% if collateral_items %}<p>Secured by: {% for c in collateral_items %}{{ c.description }}{% if not forloop.last %}; {% endif %}{% endfor %}.</p>{% endif %}
{% if not guarantors and not collateral_items %}<p>Unsecured (credit loan).</p>{% endif %}
<h2>4. Repayment and default</h2>
<p>The Borrower repays each instalment on its due date. Overdue principal bears penalty
interest at 150% of the contract rate.</p>
"""

LOAN_ZH = """<h1>借款合同</h1>
<p>合同编号 {{ number }}，签订日期 {{ today|date:"Y-m-d" }}。</p>
<p><strong>贷款人：</strong>本行。<strong>借款人：</strong>{{ company.name }}（统一社会信用代码
{{ company.credit_code }}），法定代表人 {{ company.legal_representative }}。</p>
<h2>第一条 借款</h2>
<p>贷款人向借款人发放贷款 {{ offer.amount }} {{ offer.currency }}，期限 {{ offer.term_months }}
个月，年利率 {{ offer.interest_rate }}%，还款方式：{{ method_label }}，用途：{{ application.purpose }}。</p>
<h2>第二条 放款前提条件</h2>
{% if conditions %}<ol>{% for c in conditions %}<li>{{ c.text }}</li>{% endfor %}</ol>
{% else %}<p>无。</p>{% endif %}
<h2>第三条 担保</h2>
{% if guarantors %}<p>保证人：{% for g in guarantors %}{{ g.name }}{% if not forloop.last %}；{% endif %}{% endfor %}。</p>{% endif %}
{% if collateral_items %}<p>抵（质）押物：{% for c in collateral_items %}{{ c.description }}{% if not forloop.last %}；{% endif %}{% endfor %}。</p>{% endif %}
{% if not guarantors and not collateral_items %}<p>信用贷款，无担保。</p>{% endif %}
<h2>第四条 还款与违约</h2>
<p>借款人按期归还每期本息。逾期本金按合同利率上浮50%计收罚息。</p>
"""

GUARANTEE_EN = """<h1>Guarantee contract</h1>
<p>Contract number {{ number }}, made on {{ today|date:"Y-m-d" }}, under the loan contract of
{{ company.name }} (application {{ application.reference }}).</p>
<p><strong>Creditor:</strong> the Bank. <strong>Guarantor:</strong> {{ guarantor.name }}
(ID number or credit code {{ guarantor.id_number }}).</p>
<h2>1. The guarantee</h2>
<p>The Guarantor guarantees, jointly and severally, the Borrower's repayment of the loan of
{{ offer.amount }} {{ offer.currency }} over {{ offer.term_months }} months, up to
{% if guarantor.guaranteed_amount %}{{ guarantor.guaranteed_amount }} {{ guarantor.currency }}{% else %}the full amount{% endif %},
with interest, penalty interest and the costs of recovery.</p>
<h2>2. Period</h2>
<p>The guarantee runs for three years after the loan's last due date.</p>
"""

GUARANTEE_ZH = """<h1>保证合同</h1>
<p>合同编号 {{ number }}，签订日期 {{ today|date:"Y-m-d" }}，为 {{ company.name }} 的借款合同（申请
{{ application.reference }}）提供担保。</p>
<p><strong>债权人：</strong>本行。<strong>保证人：</strong>{{ guarantor.name }}（证件号码或信用代码
{{ guarantor.id_number }}）。</p>
<h2>第一条 保证</h2>
<p>保证人为借款人归还 {{ offer.amount }} {{ offer.currency }}、期限 {{ offer.term_months }}
个月的贷款承担连带责任保证，保证金额
{% if guarantor.guaranteed_amount %}{{ guarantor.guaranteed_amount }} {{ guarantor.currency }}{% else %}为全部贷款{% endif %}，
包括利息、罚息及实现债权的费用。</p>
<h2>第二条 保证期间</h2>
<p>保证期间为主债务履行期届满之日起三年。</p>
"""

PLEDGE_EN = """<h1>Pledge contract</h1>
<p>Contract number {{ number }}, made on {{ today|date:"Y-m-d" }}, under the loan contract of
{{ company.name }} (application {{ application.reference }}).</p>
<p><strong>Pledgee:</strong> the Bank. <strong>Pledgor:</strong> {{ company.name }}.</p>
<h2>1. The collateral</h2>
<p>{{ collateral.get_kind_display }}: {{ collateral.description }}, declared at
{{ collateral.declared_value }} {{ collateral.currency }}{% if collateral.valuation %}, valued by the Bank at
{{ collateral.valuation }} {{ collateral.currency }}{% endif %}.</p>
<h2>2. What it secures</h2>
<p>The loan of {{ offer.amount }} {{ offer.currency }} with interest, penalty interest and the
costs of enforcement.</p>
"""

PLEDGE_ZH = """<h1>抵（质）押合同</h1>
<p>合同编号 {{ number }}，签订日期 {{ today|date:"Y-m-d" }}，为 {{ company.name }} 的借款合同（申请
{{ application.reference }}）提供担保。</p>
<p><strong>抵（质）押权人：</strong>本行。<strong>抵（质）押人：</strong>{{ company.name }}。</p>
<h2>第一条 担保物</h2>
<p>{{ collateral.get_kind_display }}：{{ collateral.description }}，申报价值
{{ collateral.declared_value }} {{ collateral.currency }}{% if collateral.valuation %}，本行评估价值
{{ collateral.valuation }} {{ collateral.currency }}{% endif %}。</p>
<h2>第二条 担保范围</h2>
<p>{{ offer.amount }} {{ offer.currency }} 贷款本金及利息、罚息和实现抵（质）押权的费用。</p>
"""

DEFAULT_TEMPLATES = [
    # (kind, language, name, name_zh, body)
    ("loan", "en", "Loan contract", "借款合同", LOAN_EN),
    ("loan", "zh-hans", "Loan contract", "借款合同", LOAN_ZH),
    ("guarantee", "en", "Guarantee contract", "保证合同", GUARANTEE_EN),
    ("guarantee", "zh-hans", "Guarantee contract", "保证合同", GUARANTEE_ZH),
    ("pledge", "en", "Pledge contract", "抵（质）押合同", PLEDGE_EN),
    ("pledge", "zh-hans", "Pledge contract", "抵（质）押合同", PLEDGE_ZH),
]
