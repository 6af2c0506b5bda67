"""Demo data of the contracts: the default templates, on a database flushed since migration
0002 seeded them. Contracts themselves are prepared and signed by people on the pages."""


def seed() -> None:
    from contracts.services import contract_template_defaults_ensure

    contract_template_defaults_ensure()
