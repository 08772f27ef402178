"""Alert channels, one module each: ``send(digest, ctx) -> detail`` plus a payload builder."""
