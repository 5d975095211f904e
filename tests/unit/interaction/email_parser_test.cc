// Raw inbound e-mail through GMime: multipart structure, transfer
// encodings, charsets, RFC 2047 headers and the threading headers.
#include "services/interaction/email_parser.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"

namespace crm::interaction {
namespace {

// Lines joined with CRLF, as on the wire.
std::string Crlf(const std::string& text) { return absl::StrReplaceAll(text, {{"\n", "\r\n"}}); }

}  // namespace

TEST_CASE("a multipart e-mail: encodings, charsets, encoded words, attachments",
          "[unit][interaction]") {
  const std::string raw = Crlf(
      "From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <Juergen@Example.COM>\n"
      "To: Support <support@shop.example>\n"
      "Subject: =?ISO-8859-1?Q?R=FCcksendung?= =?UTF-8?B?IOKAkyBCZXN0ZWxsdW5n?= 1042\n"
      "Message-ID: <reply-2@mail.example.com>\n"
      "In-Reply-To: <first-1@shop.example>\n"
      "References: <root-0@shop.example> <first-1@shop.example>\n"
      "Date: Tue, 01 Dec 2026 10:30:00 +0100\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=\"inner\"\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain; charset=ISO-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Gr=FC=DFe, die Jacke ist zu gro=DF.\n"
      "--inner\n"
      "Content-Type: text/html; charset=UTF-8\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "PHA+R3LDvMOfZTwvcD4=\n"
      "--inner--\n"
      "--outer\n"
      "Content-Type: application/pdf; name=\"receipt.pdf\"\n"
      "Content-Disposition: attachment; filename=\"receipt.pdf\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQKJcOkw7zDtsOf\n"
      "--outer--\n");
  v1::ReceiveMessageRequest r;
  REQUIRE(ParseRawEmail(raw, &r).ok());
  CHECK(r.from() == "Juergen@Example.COM");
  CHECK(r.sender_name() == "J\xC3\xBCrgen M\xC3\xBCller");
  CHECK(r.to() == "support@shop.example");
  CHECK(r.subject() ==
        "R\xC3\xBC"
        "cksendung \xE2\x80\x93 Bestellung 1042");
  CHECK(r.text() ==
        "Gr\xC3\xBC\xC3\x9F"
        "e, die Jacke ist zu gro\xC3\x9F.");
  CHECK(r.html() ==
        "<p>Gr\xC3\xBC\xC3\x9F"
        "e</p>");
  REQUIRE(r.attachments_size() == 1);
  CHECK(r.attachments(0).filename() == "receipt.pdf");
  CHECK(r.attachments(0).content_type() == "application/pdf");
  CHECK(r.attachments(0).size_bytes() == 18);  // "%PDF-1.4\n%" and four 2-byte letters
  CHECK(r.external_id() == "reply-2@mail.example.com");
  CHECK(r.in_reply_to() == "first-1@shop.example");
  REQUIRE(r.references_size() == 2);
  CHECK(r.references(0) == "root-0@shop.example");
  CHECK(r.references(1) == "first-1@shop.example");
  CHECK(r.sent_time().seconds() == 1'764'581'400 + 365 * 86400);  // 2026-12-01T09:30:00Z
}

TEST_CASE("a plain e-mail without a Message-ID gets a digest as its id", "[unit][interaction]") {
  const std::string raw = Crlf(
      "From: bo@example.com\n"
      "Subject: hello\n"
      "\n"
      "Just text.\n");
  v1::ReceiveMessageRequest r;
  REQUIRE(ParseRawEmail(raw, &r).ok());
  CHECK(r.from() == "bo@example.com");
  CHECK(r.text() == "Just text.\r\n");
  CHECK(r.html().empty());
  CHECK(absl::StartsWith(r.external_id(), "sha256:"));
  CHECK(r.external_id().size() == 7 + 64);
  v1::ReceiveMessageRequest again;
  REQUIRE(ParseRawEmail(raw, &again).ok());
  CHECK(again.external_id() == r.external_id());  // a redelivery is recognised
}

TEST_CASE("text in a wrong or missing charset is still UTF-8", "[unit][interaction]") {
  const std::string raw = Crlf(
      "From: x@example.com\n"
      "Content-Type: text/plain\n"
      "Content-Transfer-Encoding: 8bit\n"
      "\n"
      "caf\xE9\n");
  v1::ReceiveMessageRequest r;
  REQUIRE(ParseRawEmail(raw, &r).ok());
  CHECK(absl::StartsWith(r.text(), "caf\xC3\xA9"));
}

TEST_CASE("what is not a message with a sender is refused", "[unit][interaction]") {
  v1::ReceiveMessageRequest r;
  absl::Status no_from = ParseRawEmail(Crlf("Subject: x\n\nbody\n"), &r);
  CHECK(no_from.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(no_from.message(), "raw_email:"));
  v1::ReceiveMessageRequest big;
  CHECK(ParseRawEmail(std::string(kMaxRawEmailBytes + 1, 'a'), &big).code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace crm::interaction
