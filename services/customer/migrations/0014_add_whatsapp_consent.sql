-- Consent on WhatsApp (ConsentChannel 5), for the interaction service's
-- marketing messages there.
ALTER TABLE customer.consent_records DROP CONSTRAINT consent_records_channel_check;
ALTER TABLE customer.consent_records ADD CONSTRAINT consent_records_channel_check
  CHECK (channel BETWEEN 1 AND 5);
