-- The provider's own page for the customer (MeshCentral's invite page),
-- where assistbot's landing page leads, and the link the technician works
-- through, which a provider makes when the session starts.
ALTER TABLE sessions ADD COLUMN customer_url text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN technician_url text NOT NULL DEFAULT '';
