from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostloanConfig(AppConfig):
    name = "postloan"
    verbose_name = _("Post-loan monitoring")

    def ready(self) -> None:
        from applications.services import INTERNAL_TRANSITIONS
        from org.roles import Role, grant
        from postloan import receivers  # noqa: F401

        # Closing follows the last repayment (system); a write-off needs a second risk
        # officer's approval. Neither is taken through the generic transition endpoint.
        INTERNAL_TRANSITIONS.update({"close", "write_off"})
        grant(Role.RELATIONSHIP_MANAGER, "postloan.record_repayment",
              "postloan.propose_classification", "postloan.flag_loan",
              "postloan.propose_write_off", "postloan.complete_inspection")
        grant(Role.RISK_OFFICER, "postloan.record_repayment", "postloan.decide_classification",
              "postloan.triage_alert", "postloan.flag_loan", "postloan.propose_write_off",
              "postloan.decide_write_off", "postloan.complete_inspection")
        grant(Role.DISBURSEMENT_OFFICER, "postloan.record_repayment")
