"""Query expressions the ORM does not ship."""

import re

from django.db.models import Lookup

_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.-]+")


class InLiteral(Lookup):
    """`InLiteral(F("status"), ("open", "claimed"))`: IN with the values written into the SQL
    instead of bound as parameters, for a constant list that matches a partial index's
    condition.

    LoanFlow's connections bind parameters on the server and prepare each statement. A
    prepared statement's generic plan cannot prove that `status IN ($1, $2)` implies a partial
    index's `status IN ('open', 'claimed')`, so it cannot use the index; PostgreSQL then
    plans the statement again on every execution, which for the queue page's six-table join
    costs several times what running it does. Only plain code constants (letters, digits, `_`,
    `-` and `.`) are accepted: this is not a way to put user input into SQL."""

    prepare_rhs = False

    def get_prep_lookup(self):
        values = tuple(self.rhs)
        if not values or not all(isinstance(value, str) and _PLAIN_VALUE.fullmatch(value)
                                 for value in values):
            raise ValueError(f"InLiteral takes plain constant strings, not {values!r}")
        return values

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(repr(value) for value in self.rhs)})", params
