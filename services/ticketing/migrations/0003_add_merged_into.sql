-- MergeTickets: the ticket a merged ticket was folded into.
ALTER TABLE ticketing.tickets ADD COLUMN merged_into uuid;
