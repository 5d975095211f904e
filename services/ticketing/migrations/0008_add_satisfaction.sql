-- The customer's satisfaction rating, once per ticket (SubmitSatisfactionRating),
-- as the proto's JSON, with whether it was good (good, or a score of 4 or
-- 5) for ListTickets' filter.
ALTER TABLE ticketing.tickets
  ADD COLUMN satisfaction      jsonb,
  ADD COLUMN satisfaction_good boolean;
