-- When an admin disabled the user (PATCH /api/v1/users/{id}); NULL while
-- enabled. A disabled user cannot log in and its tokens are refused on the
-- next request; `apiserver set-password` enables the user again.
ALTER TABLE users ADD COLUMN IF NOT EXISTS disabled_at DATETIME(6) NULL;
