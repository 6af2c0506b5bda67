"""The e-signature provider: what seals a signature. The class named by
LOANFLOW_ESIGN_PROVIDER (a class path, like LOANFLOW_SMS_BACKEND) has a `name` and
`seal(signer=..., document_sha256=..., signed_at=...) -> str`. The built-in provider seals with
a keyed hash (HMAC-SHA-256 under the site's secret) of who signed which PDF when, so a seal
cannot be made outside LoanFlow and `verify` can check it later; in production the setting
names the adapter of a licensed CA's e-seal service, whose seal (its signature or its
transaction id) is kept the same way."""

import hmac
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Signer:
    party: str
    name: str
    id_number: str


class BuiltInProvider:
    name = "loanflow"

    @staticmethod
    def _message(signer: Signer, document_sha256: str, signed_at: datetime) -> str:
        return "|".join(
            [signer.party, signer.name, signer.id_number, document_sha256, signed_at.isoformat()]
        )

    def seal(self, *, signer: Signer, document_sha256: str, signed_at: datetime) -> str:
        return salted_hmac(
            "loanflow.contracts.seal",
            self._message(signer, document_sha256, signed_at),
            algorithm="sha256",
        ).hexdigest()

    def verify(
        self, *, seal: str, signer: Signer, document_sha256: str, signed_at: datetime
    ) -> bool:
        expected = self.seal(signer=signer, document_sha256=document_sha256, signed_at=signed_at)
        return hmac.compare_digest(expected, seal)


def esign_provider():
    return import_string(settings.LOANFLOW_ESIGN_PROVIDER)()
