"""One module per channel type. Each holds the type's config model (a `vigie.core.config.ChannelConfig`
subclass with its own keys, secret variable and options model) and its notifier (an
`alerts.notify.base.Notifier`), and registers the config model in `vigie.core.config.CHANNELS` under its
`type`. The registry imports every module of this package on its first lookup; nothing else lists them.
How to add one: alerts/notify/README.md, "Adding a channel".
"""
