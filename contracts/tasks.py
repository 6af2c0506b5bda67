from celery import shared_task


@shared_task(acks_late=True)
def render_contract_pdf(contract_id: int) -> str:
    from contracts.services import contract_render

    contract = contract_render(contract_id=contract_id)
    return contract.pdf_status if contract else "missing"


@shared_task(acks_late=True)
def render_signed_contract_pdf(contract_id: int) -> str:
    from contracts.services import contract_render_signed

    contract = contract_render_signed(contract_id=contract_id)
    return contract.signed_sha256 if contract else "missing"


@shared_task
def render_pending_contracts() -> int:
    """Sweep: render contract PDFs left pending (e.g. the broker was down when prepared)."""
    from contracts.services import contracts_render_pending

    return contracts_render_pending()


@shared_task
def file_loan_files() -> int:
    """Nightly: file every document the cases produced since (the loan file's entries)."""
    from contracts.loanfile import loan_files_record_all

    return loan_files_record_all()
