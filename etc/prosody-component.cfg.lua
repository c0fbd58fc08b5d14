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

-- Under a big fan-out Prosody spends about half its CPU in Lua's garbage collector:
-- this roughly doubles the notifications per second it takes from a component (and
-- from its own mod_pubsub); `make bench` runs Prosody with it (README, "Performance").
-- A global setting: keep it above the first VirtualHost or Component line.
gc = { mode = "incremental"; threshold = 200; speed = 200 }

-- Debian's default prosody.cfg.lua loads mod_limits with c2s at 10 kb/s, which caps a
-- publisher at about 800 notifications of 1 KB a second. Raise it for publishers:
-- limits = { c2s = { rate = "500kb/s"; burst = "2s" } }

Component "pubsub.calendar.localhost"
    component_secret = "change-me"
