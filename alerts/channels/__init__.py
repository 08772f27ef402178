"""Alert channels, one module each declaring ``CHANNEL`` (``base.ChannelSpec``); listed in
``registry.MODULES``."""
