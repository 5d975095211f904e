-- Languages (docs/ticketing.md, Routing): the ones an agent answers in (ISO
-- 639 codes) and the one a ticket is written in (a BCP-47 tag); in a SKILLS
-- group a ticket's language is a skill its agent must have.
ALTER TABLE ticketing.agents ADD COLUMN languages text[] NOT NULL DEFAULT '{}';
ALTER TABLE ticketing.tickets ADD COLUMN language text NOT NULL DEFAULT '';
