"""Bodies and answers of ``/api/v1/insights``: the price table and budgets; figures are JSON documents."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mltrail.channels import redact_channel
from mltrail.entities import Budget, Price

__all__ = ["BudgetIn", "BudgetPublic", "PriceIn", "PricePublic"]


class PriceIn(BaseModel):
    kind: str = Field(description="cpu (one logical core), gpu (any GPU) or gpu:<name as runs recorded it>")
    per_hour: float = Field(description="the price of one hour of that hardware, >= 0")
    currency: str = Field("USD", description="a 3-letter code; one currency for the whole table")


class PricePublic(BaseModel):
    kind: str
    per_hour: float
    currency: str
    updated_at: float
    updated_by: str | None

    @classmethod
    def of(cls, price: Price) -> PricePublic:
        return cls(
            kind=price.kind,
            per_hour=price.per_hour,
            currency=price.currency,
            updated_at=price.updated_at,
            updated_by=price.updated_by,
        )


class BudgetIn(BaseModel):
    amount: float = Field(description="the project's compute budget per calendar month (UTC), > 0")
    alert_share: float = Field(0.8, description="the share of the budget spent that raises the alert, (0, 1]")
    currency: str | None = Field(None, description="the price table's currency when left out")
    notify: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="channels the alert is sent to: webhook:URL, slack:URL, email:ADDR (replaces the old)",
    )


class BudgetPublic(BaseModel):
    project: str
    amount: float
    currency: str
    alert_share: float
    updated_at: float
    updated_by: str | None
    channels: list[str] = Field(description="where the alert is sent, without the secrets in URLs")

    @classmethod
    def of(cls, budget: Budget) -> BudgetPublic:
        return cls(
            project=budget.project,
            amount=budget.amount,
            currency=budget.currency,
            alert_share=budget.alert_share,
            updated_at=budget.updated_at,
            updated_by=budget.updated_by,
            channels=[redact_channel(c) for c in budget.channels],
        )
