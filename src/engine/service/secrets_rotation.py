"""Re-sealing every stored credential under the current key, after a new key was put first in
ENGINE_SECRET_KEYS (the old ones stay listed until this has run)."""

from __future__ import annotations

from engine.service.context import Context


def reseal_all(ctx: Context) -> dict[str, int]:
    """Re-seal source credentials and webhook secrets with the first key; values stored in the
    clear before sealing existed are sealed now. Returns how many of each were rewritten."""
    sources = 0
    for row in ctx.store.every_source():
        config = ctx.cipher.rotate_config(ctx.cipher.seal_config(row["connection_config"]))
        if config != row["connection_config"]:
            ctx.store.update_source(row["company"], row["source_id"], {"connection_config": config})
            sources += 1
    secrets = 0
    for row in ctx.store.every_webhook_secret():
        ctx.store.replace_webhook_secret(
            row["company"], ctx.cipher.rotate_text(row["webhook_secret"])
        )
        secrets += 1
    return {"sources": sources, "webhook_secrets": secrets}
