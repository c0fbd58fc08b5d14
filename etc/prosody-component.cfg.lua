-- prosody-component.cfg.lua: what Prosody needs to host calpubsub. Add it to
-- /etc/prosody/prosody.cfg.lua (or drop it into /etc/prosody/conf.d/) and reload
-- Prosody. The secret must equal calpubsub's (server.secret_file).

-- Where Prosody listens for components (XEP-0114). Keep it on loopback unless
-- calpubsub runs on another machine.
component_ports = { 5347 }
component_interface = "127.0.0.1"

-- The web page (README, "Web page"): BOSH and the page on Prosody's own HTTP server,
-- and the service in disco#items so that the page finds it (Prosody lists only
-- direct subdomains of a host by itself). Uncomment and merge with your settings:
-- modules_enabled = { --[[ yours ]] "bosh"; "http_files" }
-- http_files_dir = "/usr/local/share/calpubsub/web"
-- http_paths = { files = "/calendar"; bosh = "/http-bind" }
-- disco_items = { { "pubsub.calendar.localhost", "Calendars" } }

Component "pubsub.calendar.localhost"
    component_secret = "change-me"
