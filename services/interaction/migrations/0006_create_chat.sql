-- Live chat. A conversation numbers its chat messages 1, 2, 3, ... under
-- its row lock, so the numbers follow commit order and a reader that sees
-- one sees every smaller one. A merge takes the moved messages out of the
-- numbering (chat_seq NULL) rather than mixing two chats' numbers.
ALTER TABLE interaction.conversations ADD COLUMN chat_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE interaction.messages ADD COLUMN chat_seq bigint;
CREATE UNIQUE INDEX messages_chat_seq_idx
  ON interaction.messages (tenant_id, conversation_id, chat_seq) WHERE chat_seq IS NOT NULL;

-- The latest read receipt of each participant of a chat.
CREATE TABLE interaction.chat_reads (
  tenant_id       text        NOT NULL,
  conversation_id uuid        NOT NULL,
  participant     text        NOT NULL,  -- customers/{id} or agents/{uuid}
  seq             bigint      NOT NULL,
  update_time     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, conversation_id, participant),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES interaction.conversations (tenant_id, id)
);
ALTER TABLE interaction.chat_reads ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.chat_reads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.chat_reads
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
