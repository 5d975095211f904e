-- The template an outbound message was rendered from ('' when it was
-- written in full), so engagement can be counted per template.
ALTER TABLE interaction.messages ADD COLUMN template text NOT NULL DEFAULT '';
