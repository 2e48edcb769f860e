"""A demo return: one unit of a shipped demo order came back, received into stock (restock) and,
when the order has a second line, a unit of that one scrapped; all through the services, once."""

from __future__ import annotations

from config.errors import DomainError
from logistics.models import Shipment, ShipmentState
from logistics.returns.models import ReturnOutcome, ReturnRequest
from logistics.returns.services import LineOutcome, return_approve, return_open, return_receive


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def seed(*, users, stdout=None) -> None:
    """A received return with a restock line, from the first shipped demo shipment."""
    clerk = users.get("warehouse")
    if clerk is None or ReturnRequest.objects.exists():
        return
    shipment = (
        Shipment.objects.filter(state=ShipmentState.SHIPPED, replaces__isnull=True)
        .select_related("order", "warehouse")
        .order_by("shipped_at", "pk")
        .first()
    )
    if shipment is None:
        return
    lines = list(shipment.lines.order_by("pk")[:2])
    try:
        opened = return_open(
            order=shipment.order,
            quantities={line.order_line_id: 1 for line in lines},
            reason="defective",
            details="外箱压损，客户拍照确认。",
            by=clerk,
        )
        approved = return_approve(return_request=opened, by=clerk)
        outcomes = {}
        for i, line in enumerate(approved.lines.order_by("pk")):
            outcomes[line.pk] = (
                LineOutcome(ReturnOutcome.RESTOCK, shipment.warehouse_id) if i == 0 else LineOutcome(ReturnOutcome.SCRAP)
            )
        received = return_receive(return_request=approved, outcomes=outcomes, by=clerk)
    except DomainError as error:
        _say(stdout, f"Returns demo: none made ({error}).")
        return
    _say(stdout, f"Returns demo: {received.number} received for {shipment.order.number}.")
