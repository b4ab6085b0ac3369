-- What a function version's artifact is, and so how its job runs it:
-- 'go' a Linux executable run as the task; 'python' a .py module and
-- 'python-archive' a .tar.gz holding main.py, each run by the newest
-- version of the python runtime function. Versions before this are binaries.
ALTER TABLE functions ADD COLUMN IF NOT EXISTS kind VARCHAR(16) NOT NULL DEFAULT 'go';
