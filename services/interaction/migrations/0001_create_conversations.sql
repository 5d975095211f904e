-- Conversations and their messages. Enumerations are stored by name
-- ('EMAIL', 'OPEN', ...) so that filters compare columns directly; the
-- CHECKs hold them to the proto's values. customer is a resource name of
-- the customer service, assignee one of the ticketing service.
CREATE TABLE interaction.conversations (
  tenant_id         text        NOT NULL,
  id                uuid        NOT NULL DEFAULT gen_random_uuid(),
  customer          text        NOT NULL,
  channel           text        NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'WHATSAPP',
                                                'MESSENGER', 'INSTAGRAM', 'LIVE_CHAT', 'PHONE',
                                                'WEB_FORM')),
  channel_account   text        NOT NULL DEFAULT '',
  subject           text        NOT NULL DEFAULT '',
  status            text        NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'SNOOZED',
                                                                           'CLOSED')),
  snooze_until_time timestamptz,
  assignee          text        NOT NULL DEFAULT '',
  labels            text[]      NOT NULL DEFAULT '{}',
  ticket            text        NOT NULL DEFAULT '',
  -- E-mail subjects carry it as [#token]: 10 characters of base32.
  token             text        NOT NULL,
  message_count     bigint      NOT NULL DEFAULT 0,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  last_message_time timestamptz NOT NULL DEFAULT now(),
  close_time        timestamptz,
  merged_into       uuid,
  version           bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, token)
);

CREATE INDEX conversations_create_time_idx
  ON interaction.conversations (tenant_id, create_time DESC, id DESC);
-- A customer's latest conversation on a channel (threading of SMS and
-- social messages without a thread id).
CREATE INDEX conversations_customer_idx
  ON interaction.conversations (tenant_id, customer, channel, last_message_time DESC);
CREATE INDEX conversations_status_idx
  ON interaction.conversations (tenant_id, status, create_time DESC, id DESC);

ALTER TABLE interaction.conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.conversations
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Thread ids of the channels (a social thread, a chat session, the
-- Message-ID of every e-mail) and the conversation each leads to. A merge
-- re-points the source's keys to the target.
CREATE TABLE interaction.thread_keys (
  tenant_id       text        NOT NULL,
  channel         text        NOT NULL,
  thread_key      text        NOT NULL,
  conversation_id uuid        NOT NULL,
  create_time     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, channel, thread_key),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES interaction.conversations (tenant_id, id)
);
CREATE INDEX thread_keys_conversation_idx
  ON interaction.thread_keys (tenant_id, conversation_id);

ALTER TABLE interaction.thread_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.thread_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.thread_keys
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Messages, inbound and outbound. customer and channel repeat the
-- conversation's so that a customer's timeline is one index range.
CREATE TABLE interaction.messages (
  tenant_id        text        NOT NULL,
  id               uuid        NOT NULL DEFAULT gen_random_uuid(),
  conversation_id  uuid        NOT NULL,
  customer         text        NOT NULL,
  channel          text        NOT NULL,
  direction        text        NOT NULL CHECK (direction IN ('INBOUND', 'OUTBOUND')),
  author_kind      text        NOT NULL CHECK (author_kind IN ('CUSTOMER', 'AGENT', 'SYSTEM',
                                                               'CAMPAIGN')),
  author           text        NOT NULL DEFAULT '',
  from_address     text        NOT NULL DEFAULT '',
  to_address       text        NOT NULL DEFAULT '',
  subject          text        NOT NULL DEFAULT '',
  text_body        text        NOT NULL DEFAULT '',
  html_body        text        NOT NULL DEFAULT '',
  attachments      jsonb       NOT NULL DEFAULT '{}',  -- {"attachments": [...]}
  external_id      text,
  in_reply_to      text        NOT NULL DEFAULT '',
  refs             text[]      NOT NULL DEFAULT '{}',
  thread_id        text        NOT NULL DEFAULT '',
  delivery_status  text        NOT NULL CHECK (delivery_status IN ('RECEIVED', 'QUEUED', 'SENT',
                                 'DELIVERED', 'OPENED', 'CLICKED', 'BOUNCED', 'FAILED',
                                 'COMPLAINED')),
  delivery_reason  text        NOT NULL DEFAULT '',
  delivery_history jsonb       NOT NULL DEFAULT '{}',  -- {"deliveryHistory": [...]}
  sent_time        timestamptz NOT NULL DEFAULT now(),
  create_time      timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES interaction.conversations (tenant_id, id)
);

-- ReceiveMessage is idempotent by the channel's message id.
CREATE UNIQUE INDEX messages_external_id_idx
  ON interaction.messages (tenant_id, channel, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX messages_conversation_idx
  ON interaction.messages (tenant_id, conversation_id, create_time, id);
CREATE INDEX messages_timeline_idx
  ON interaction.messages (tenant_id, customer, create_time DESC, id DESC);

ALTER TABLE interaction.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.messages
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Which customer an address on a channel belongs to, as the customer
-- service answered (IdentifyCustomer), so that the next message from it
-- needs no call. Follows customer.merged / unmerged / erased.
CREATE TABLE interaction.contacts (
  tenant_id   text        NOT NULL,
  kind        text        NOT NULL,  -- EMAIL, PHONE, or the social channel's name
  address     text        NOT NULL,
  customer    text        NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, kind, address)
);
CREATE INDEX contacts_customer_idx ON interaction.contacts (tenant_id, customer);

ALTER TABLE interaction.contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.contacts
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Conversations and messages re-pointed to the survivor when the customer
-- service merged their customer, so that customer.unmerged puts back
-- exactly these.
CREATE TABLE interaction.customer_moves (
  tenant_id       text        NOT NULL,
  merge_id        text        NOT NULL,
  conversation_id uuid        NOT NULL,
  from_customer   text        NOT NULL,
  create_time     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, merge_id, conversation_id)
);
ALTER TABLE interaction.customer_moves ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.customer_moves FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.customer_moves
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
