// Outbound MIME from GMime: CRLF throughout, the one-click unsubscribe
// headers verbatim, encoded UTF-8 subjects, and a round trip through the
// parser the service reads inbound mail with.
#include "services/interaction/email_builder.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/match.h"
#include "services/interaction/email_parser.h"

namespace crm::interaction {

TEST_CASE("outbound e-mail is well-formed MIME that parses back", "[unit][interaction]") {
  OutgoingEmail e;
  e.from_address = "support@shop.example";
  e.from_name = "Sch\xC3\xB6n & Co";
  e.to = "ann@example.com";
  e.subject =
      "Gr\xC3\xBC\xC3\x9F"
      "e [#abcdefgh23]";
  e.text = "Hallo Ann,\n\n.a line starting with a dot\n\xE2\x82\xAC 12";
  e.html = "<p>Hallo <b>Ann</b></p>";
  e.message_id = "m-1@shop.example";
  e.in_reply_to = "c-2@mail.example";
  e.references = {"c-1@mail.example", "c-2@mail.example"};
  e.date = absl::FromUnixSeconds(1'764'581'400);
  e.unsubscribe_url = "https://crm.example.com/i/unsubscribe/" + std::string(200, 'x');
  const std::string raw = BuildEmail(e);

  for (size_t i = raw.find('\n'); i != std::string::npos; i = raw.find('\n', i + 1)) {
    REQUIRE(i > 0);
    REQUIRE(raw[i - 1] == '\r');  // no bare LF anywhere
  }
  CHECK(absl::StrContains(raw, "\r\nList-Unsubscribe: <" + e.unsubscribe_url + ">\r\n"));
  CHECK(absl::StrContains(raw, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
  CHECK(absl::StrContains(raw, "\r\nIn-Reply-To: <c-2@mail.example>\r\n"));
  CHECK(absl::StrContains(raw, "\r\nReferences: <c-1@mail.example>\r\n <c-2@mail.example>\r\n"));
  CHECK(absl::StrContains(raw, "multipart/alternative"));
  CHECK(absl::StrContains(raw, "Subject: =?"));  // RFC 2047
  for (size_t start = 0, end; (end = raw.find("\r\n", start)) != std::string::npos;
       start = end + 2) {
    REQUIRE(end - start <= 998);
  }

  v1::ReceiveMessageRequest back;
  REQUIRE(ParseRawEmail(raw, &back).ok());
  CHECK(back.from() == "support@shop.example");
  CHECK(back.sender_name() == e.from_name);
  CHECK(back.to() == "ann@example.com");
  CHECK(back.subject() == e.subject);
  CHECK(back.external_id() == "m-1@shop.example");
  CHECK(back.in_reply_to() == "c-2@mail.example");
  REQUIRE(back.references_size() == 2);
  CHECK(back.references(0) == "c-1@mail.example");
  CHECK(absl::StrContains(back.text(), ".a line starting with a dot"));
  CHECK(absl::StrContains(back.text(), "\xE2\x82\xAC 12"));
  CHECK(back.html() == e.html);
  CHECK(back.sent_time().seconds() == 1'764'581'400);

  // Ids that are not strict msg-ids (a channel bridge's own ids) survive too.
  OutgoingEmail loose = e;
  loose.in_reply_to = "demo-2";
  loose.references = {"demo-1", "demo-2"};
  v1::ReceiveMessageRequest loose_back;
  REQUIRE(ParseRawEmail(BuildEmail(loose), &loose_back).ok());
  CHECK(absl::StrContains(BuildEmail(loose), "References: <demo-1>\r\n <demo-2>\r\n"));

  e.html.clear();
  e.unsubscribe_url.clear();
  const std::string plain = BuildEmail(e);
  CHECK_FALSE(absl::StrContains(plain, "multipart"));
  CHECK_FALSE(absl::StrContains(plain, "List-Unsubscribe"));
  CHECK(MessageIdFor("abc", "support@shop.example") == "abc@shop.example");
}

}  // namespace crm::interaction
