"""What an update changed, in words, and whether the model must be retrained for it."""

from __future__ import annotations

from engine.domain.asset_config import AssetSpec


def describe_changes(before: AssetSpec, after: AssetSpec) -> list[str]:
    changes: list[str] = []
    if before.name != after.name:
        changes.append(f"Renamed to '{after.name}'")
    if before.description != after.description:
        changes.append("Updated description")
    if before.category != after.category:
        changes.append(f"Moved to category {after.category}")
    old, new = before.configuration, after.configuration
    added = [f for f in new.features if f not in old.features]
    removed = [f for f in old.features if f not in new.features]
    if added:
        changes.append(
            f"Added {len(added)} new feature{'s' if len(added) > 1 else ''}: {', '.join(added)}"
        )
    if removed:
        changes.append(
            f"Removed {len(removed)} feature{'s' if len(removed) > 1 else ''}: {', '.join(removed)}"
        )
    if old.target_variable != new.target_variable:
        changes.append(f"Changed target variable to {new.target_variable}")
    if old.algorithms != new.algorithms:
        changes.append(f"Changed algorithms to {', '.join(new.algorithms)}")
    if old.performance_threshold != new.performance_threshold:
        changes.append(
            f"Updated performance threshold to {new.performance_threshold:.2f}"
            if new.performance_threshold is not None
            else "Removed performance threshold"
        )
    if old.hyperparameters != new.hyperparameters:
        changes.append("Changed hyperparameters")
    for field in (
        "validation_split",
        "cross_validation_folds",
        "confidence_level",
        "risk_thresholds",
        "entity_key",
        "table",
    ):
        if getattr(old, field) != getattr(new, field):
            changes.append(f"Changed {field} to {getattr(new, field)}")
    if before.validation_rules != after.validation_rules:
        changes.append("Updated validation rules")
    if (
        before.pricing.price != after.pricing.price
        or before.pricing.currency != after.pricing.currency
    ):
        symbol = "$" if after.pricing.currency == "USD" else f"{after.pricing.currency} "
        changes.append(f"Adjusted pricing to {symbol}{after.pricing.price:.2f}")
    if before.pricing.free_tier != after.pricing.free_tier:
        tier = after.pricing.free_tier
        changes.append(f"Free tier set to {tier.requests} requests {tier.period}")
    if [r.model_dump() for r in before.data_sources] != [
        r.model_dump() for r in after.data_sources
    ]:
        changes.append("Changed data sources")
    return changes


def needs_retraining(before: AssetSpec, after: AssetSpec) -> bool:
    old, new = before.configuration, after.configuration
    return (
        old.features != new.features
        or old.target_variable != new.target_variable
        or old.algorithms != new.algorithms
        or old.hyperparameters != new.hyperparameters
        or old.table != new.table
    )
