-- prosody-component.cfg.lua: what Prosody needs to host calpubsub. Add it to
-- /etc/prosody/prosody.cfg.lua (or drop it into /etc/prosody/conf.d/) and reload
-- Prosody. The secret must equal calpubsub's (server.secret_file).

-- Where Prosody listens for components (XEP-0114). Keep it on loopback unless
-- calpubsub runs on another machine.
component_ports = { 5347 }
component_interface = "127.0.0.1"

Component "pubsub.calendar.localhost"
    component_secret = "change-me"
