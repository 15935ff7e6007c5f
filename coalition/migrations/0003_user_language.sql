-- Version 3: each account's chosen language, remembered between sessions.

ALTER TABLE users ADD COLUMN IF NOT EXISTS language TEXT;
