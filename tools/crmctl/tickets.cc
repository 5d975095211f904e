// crmctl tickets create | get | list | update | sla | rate | status | comment |
// comments | merge | statuses | new-status | fields | new-field.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/client_context.h>

#include <cstdio>
#include <iostream>
#include <map>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::crmctl {
namespace {

namespace v1 = crm::ticketing::v1;

// One line per ticket: name, status, priority, update time, subject.
void PrintLine(const v1::Ticket& t) {
  std::printf("%s  %-8s %-7s %s  %s\n", t.name().c_str(),
              v1::Status_Name(t.status()).substr(7).c_str(),
              v1::Priority_Name(t.priority()).substr(9).c_str(), When(t.update_time()).c_str(),
              t.subject().c_str());
}

int List(v1::TicketService::Stub& stub) {
  v1::ListTicketsRequest request;
  request.set_filter(absl::GetFlag(FLAGS_filter));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  size_t total = 0;
  for (;;) {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    v1::ListTicketsResponse response;
    grpc::Status s = stub.ListTickets(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    for (const auto& t : response.tickets()) PrintLine(t);
    total += response.tickets_size();
    if (response.next_page_token().empty()) break;
    if (!absl::GetFlag(FLAGS_all)) {
      std::fprintf(stderr, "more: --page_token %s\n", response.next_page_token().c_str());
      break;
    }
    request.set_page_token(response.next_page_token());
  }
  std::fprintf(stderr, "%zu tickets\n", total);
  return 0;
}

// `key=value,...` as custom field values typed by the tenant's fields
// (`key=` removes one), with their mask paths; 0, or the exit code.
int SetCustomFields(v1::TicketService::Stub& stub, const std::string& spec, v1::Ticket* ticket,
                    google::protobuf::FieldMask* mask) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::ListTicketFieldsResponse fields;
  grpc::Status s = stub.ListTicketFields(&ctx, v1::ListTicketFieldsRequest(), &fields);
  if (!s.ok()) return Report(s);
  std::map<std::string, v1::CustomFieldType> types;
  for (const auto& f : fields.fields()) types[f.key()] = f.type();
  for (absl::string_view pair : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    const std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    const auto it = types.find(kv.first);
    if (it == types.end()) {
      std::fprintf(stderr, "error: --fields: the tenant has no ticket field \"%s\"\n",
                   kv.first.c_str());
      return 2;
    }
    mask->add_paths("custom_fields." + kv.first);
    if (kv.second.empty()) continue;  // removed
    v1::CustomFieldValue& value = (*ticket->mutable_custom_fields())[kv.first];
    double number = 0;
    switch (it->second) {
      case v1::CUSTOM_FIELD_TYPE_NUMBER:
        if (!absl::SimpleAtod(kv.second, &number)) {
          std::fprintf(stderr, "error: --fields: %s needs a number\n", kv.first.c_str());
          return 2;
        }
        value.set_number_value(number);
        break;
      case v1::CUSTOM_FIELD_TYPE_BOOLEAN:
        value.set_bool_value(kv.second == "true");
        break;
      case v1::CUSTOM_FIELD_TYPE_DATE:
        value.set_date_value(kv.second);
        break;
      case v1::CUSTOM_FIELD_TYPE_DROPDOWN:
        value.set_option_value(kv.second);
        break;
      default:
        value.set_text_value(kv.second);
        break;
    }
  }
  return 0;
}

}  // namespace

int Tickets(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(
        stderr,
        "usage: crmctl tickets "
        "create|get|list|update|sla|rate|assign|escalate|status|comment|comments|merge|statuses|"
        "new-status|fields|new-field "
        "[NAME] "
        "[flags]\n");
    return 2;
  }
  auto stub = v1::TicketService::NewStub(Channel());
  const std::string verb = args[2];
  if (verb == "list") return List(*stub);
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "statuses") {
    v1::ListCustomStatusesResponse out;
    grpc::Status s = stub->ListCustomStatuses(&ctx, v1::ListCustomStatusesRequest(), &out);
    if (!s.ok()) return Report(s);
    for (const auto& c : out.custom_statuses()) {
      std::printf("%s  %-8s %s\n", c.name().c_str(),
                  v1::Status_Name(c.category()).substr(7).c_str(), c.label().c_str());
    }
    return 0;
  }
  if (verb == "fields") {
    v1::ListTicketFieldsResponse out;
    grpc::Status s = stub->ListTicketFields(&ctx, v1::ListTicketFieldsRequest(), &out);
    if (!s.ok()) return Report(s);
    for (const auto& f : out.fields()) {
      std::printf("%-32s %-9s %-24s %s\n", f.name().c_str(),
                  v1::CustomFieldType_Name(f.type()).substr(18).c_str(), f.display_name().c_str(),
                  absl::StrJoin(f.options(), ",").c_str());
    }
    return 0;
  }
  if (verb == "new-field") {
    v1::CreateTicketFieldRequest request;
    const auto parsed = google::protobuf::util::JsonStringToMessage(absl::GetFlag(FLAGS_json),
                                                                    request.mutable_field());
    if (!parsed.ok()) {
      std::fprintf(stderr, "error: --json: %s\n", parsed.ToString().c_str());
      return 2;
    }
    v1::TicketField out;
    grpc::Status s = stub->CreateTicketField(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::cout << Json(out) << "\n";
    return 0;
  }
  if (verb == "new-status") {
    v1::CreateCustomStatusRequest request;
    request.mutable_custom_status()->set_label(absl::GetFlag(FLAGS_label));
    request.mutable_custom_status()->set_category(
        ParseEnum<v1::Status>(v1::Status_descriptor(), "STATUS_", absl::GetFlag(FLAGS_status)));
    request.mutable_custom_status()->set_description(absl::GetFlag(FLAGS_description));
    v1::CustomStatus out;
    grpc::Status s = stub->CreateCustomStatus(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::cout << Json(out) << "\n";
    return 0;
  }
  if (verb == "create") {
    v1::CreateTicketRequest request;
    v1::Ticket* t = request.mutable_ticket();
    t->set_requester(absl::GetFlag(FLAGS_requester));
    t->set_subject(absl::GetFlag(FLAGS_subject));
    t->set_description(absl::GetFlag(FLAGS_description));
    t->set_order(absl::GetFlag(FLAGS_order));
    t->set_group(absl::GetFlag(FLAGS_group));
    t->set_priority(ParseEnum<v1::Priority>(v1::Priority_descriptor(), "PRIORITY_",
                                            absl::GetFlag(FLAGS_priority)));
    t->set_type(ParseEnum<v1::TicketType>(v1::TicketType_descriptor(), "TICKET_TYPE_",
                                          absl::GetFlag(FLAGS_ticket_type)));
    t->set_channel(
        ParseEnum<v1::Channel>(v1::Channel_descriptor(), "CHANNEL_", absl::GetFlag(FLAGS_channel)));
    for (absl::string_view tag :
         absl::StrSplit(absl::GetFlag(FLAGS_tags), ',', absl::SkipWhitespace())) {
      t->add_tags(std::string(tag));
    }
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    v1::Ticket out;
    grpc::Status s = stub->CreateTicket(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::cout << Json(out) << "\n";
    return 0;
  }
  if (args.size() < 4) {
    std::fprintf(stderr, "usage: crmctl tickets %s tickets/<id> [flags]\n", verb.c_str());
    return 2;
  }
  const std::string name = args[3];
  if (verb == "get") {
    v1::GetTicketRequest request;
    request.set_name(name);
    v1::Ticket out;
    grpc::Status s = stub->GetTicket(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::cout << Json(out) << "\n";
    return 0;
  }
  if (verb == "update") {
    // The fields given as flags are the ones changed.
    v1::UpdateTicketRequest request;
    v1::Ticket* t = request.mutable_ticket();
    t->set_name(name);
    t->set_etag(absl::GetFlag(FLAGS_etag));
    auto* mask = request.mutable_update_mask();
    if (!absl::GetFlag(FLAGS_subject).empty()) {
      t->set_subject(absl::GetFlag(FLAGS_subject));
      mask->add_paths("subject");
    }
    if (!absl::GetFlag(FLAGS_priority).empty()) {
      t->set_priority(ParseEnum<v1::Priority>(v1::Priority_descriptor(), "PRIORITY_",
                                              absl::GetFlag(FLAGS_priority)));
      mask->add_paths("priority");
    }
    if (!absl::GetFlag(FLAGS_ticket_type).empty()) {
      t->set_type(ParseEnum<v1::TicketType>(v1::TicketType_descriptor(), "TICKET_TYPE_",
                                            absl::GetFlag(FLAGS_ticket_type)));
      mask->add_paths("type");
    }
    if (!absl::GetFlag(FLAGS_tags).empty()) {
      for (absl::string_view tag :
           absl::StrSplit(absl::GetFlag(FLAGS_tags), ',', absl::SkipWhitespace())) {
        t->add_tags(std::string(tag));
      }
      mask->add_paths("tags");
    }
    if (!absl::GetFlag(FLAGS_order).empty()) {
      t->set_order(absl::GetFlag(FLAGS_order));
      mask->add_paths("order");
    }
    if (!absl::GetFlag(FLAGS_followers).empty()) {
      for (absl::string_view f :
           absl::StrSplit(absl::GetFlag(FLAGS_followers), ',', absl::SkipWhitespace())) {
        if (f != "-") t->add_followers(std::string(f));
      }
      mask->add_paths("followers");
    }
    if (!absl::GetFlag(FLAGS_fields).empty()) {
      const int code = SetCustomFields(*stub, absl::GetFlag(FLAGS_fields), t, mask);
      if (code != 0) return code;
    }
    v1::Ticket out;
    grpc::Status s = stub->UpdateTicket(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    PrintLine(out);
    return 0;
  }
  if (verb == "escalate") {
    v1::EscalateTicketRequest request;
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    request.set_name(name);
    request.set_priority(ParseEnum<v1::Priority>(v1::Priority_descriptor(), "PRIORITY_",
                                                 absl::GetFlag(FLAGS_priority)));
    request.set_group(absl::GetFlag(FLAGS_group));
    request.set_reason(absl::GetFlag(FLAGS_body));
    request.set_etag(absl::GetFlag(FLAGS_etag));
    v1::Ticket out;
    grpc::Status s = stub->EscalateTicket(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    PrintLine(out);
    return 0;
  }
  if (verb == "assign") {
    v1::AssignTicketRequest request;
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    request.set_name(name);
    request.set_group(absl::GetFlag(FLAGS_group));
    request.set_assignee(absl::GetFlag(FLAGS_assignee));
    request.set_etag(absl::GetFlag(FLAGS_etag));
    v1::Ticket out;
    grpc::Status s = stub->AssignTicket(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    PrintLine(out);
    std::printf("  group %s  assignee %s\n", out.group().empty() ? "-" : out.group().c_str(),
                out.assignee().empty() ? "(waiting)" : out.assignee().c_str());
    return 0;
  }
  if (verb == "rate") {
    v1::SubmitSatisfactionRatingRequest request;
    request.set_parent(name);
    v1::SatisfactionRating* r = request.mutable_rating();
    if (absl::GetFlag(FLAGS_score) != 0) r->set_score(absl::GetFlag(FLAGS_score));
    if (absl::GetFlag(FLAGS_good)) r->set_good(true);
    if (absl::GetFlag(FLAGS_bad)) r->set_good(false);
    r->set_comment(absl::GetFlag(FLAGS_body));
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    v1::SatisfactionRating out;
    grpc::Status s = stub->SubmitSatisfactionRating(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::cout << Json(out) << "\n";
    return 0;
  }
  if (verb == "sla") {
    // The ticket's SLA clocks, one line each.
    v1::GetTicketRequest request;
    request.set_name(name);
    v1::Ticket out;
    grpc::Status s = stub->GetTicket(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    if (out.sla().policy().empty() && out.sla().clocks_size() == 0) {
      std::printf("no SLA policy applies to %s\n", name.c_str());
      return 0;
    }
    std::printf("policy %s%s\n", out.sla().policy().c_str(),
                out.sla().breached() ? "  (a target was missed)" : "");
    using google::protobuf::util::TimeUtil;
    for (const auto& c : out.sla().clocks()) {
      const std::string when = c.has_achieved_time() ? "met " + When(c.achieved_time()) + " UTC"
                               : c.has_due_time()    ? "due " + When(c.due_time()) + " UTC"
                                                     : std::string("paused");
      std::printf("  %-16s %6d min  %-8s %s%s\n", v1::SlaMetric_Name(c.metric()).substr(11).c_str(),
                  c.target_minutes(), v1::SlaClockState_Name(c.state()).substr(16).c_str(),
                  when.c_str(), c.breached() ? "  BREACHED" : "");
    }
    return 0;
  }
  if (verb == "status") {
    v1::ChangeTicketStatusRequest request;
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    request.set_name(name);
    request.set_status(
        ParseEnum<v1::Status>(v1::Status_descriptor(), "STATUS_", absl::GetFlag(FLAGS_status)));
    request.set_custom_status(absl::GetFlag(FLAGS_custom_status));
    request.set_etag(absl::GetFlag(FLAGS_etag));
    v1::Ticket out;
    grpc::Status s = stub->ChangeTicketStatus(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    PrintLine(out);
    return 0;
  }
  if (verb == "comment") {
    v1::AddCommentRequest request;
    request.set_parent(name);
    v1::Comment* c = request.mutable_comment();
    c->set_author_kind(ParseEnum<v1::AuthorKind>(v1::AuthorKind_descriptor(), "AUTHOR_KIND_",
                                                 absl::GetFlag(FLAGS_author_kind)));
    c->set_author(absl::GetFlag(FLAGS_author).empty() ? "crmctl" : absl::GetFlag(FLAGS_author));
    c->set_body(absl::GetFlag(FLAGS_body));
    c->set_public_(!absl::GetFlag(FLAGS_internal));
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    v1::Comment out;
    grpc::Status s = stub->AddComment(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::cout << Json(out) << "\n";
    return 0;
  }
  if (verb == "merge") {
    v1::MergeTicketsRequest request;
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    request.set_source(name);
    request.set_target(absl::GetFlag(FLAGS_into));
    v1::MergeTicketsResponse out;
    grpc::Status s = stub->MergeTickets(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    PrintLine(out.source());
    PrintLine(out.target());
    std::fprintf(stderr, "%lld comments moved\n", static_cast<long long>(out.moved_comments()));
    return 0;
  }
  if (verb == "comments") {
    v1::ListCommentsRequest request;
    request.set_parent(name);
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    v1::ListCommentsResponse out;
    grpc::Status s = stub->ListComments(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    for (const auto& c : out.comments()) {
      std::printf("%s  %s %s (%s)%s\n  %s\n", When(c.create_time()).c_str(),
                  v1::AuthorKind_Name(c.author_kind()).substr(12).c_str(), c.author().c_str(),
                  c.public_() ? "public" : "internal note",
                  c.attachments_size() > 0 ? " +attachments" : "", c.body().c_str());
    }
    if (!out.next_page_token().empty()) {
      std::fprintf(stderr, "more: --page_token %s\n", out.next_page_token().c_str());
    }
    return 0;
  }
  std::fprintf(stderr, "unknown verb: tickets %s\n", verb.c_str());
  return 2;
}

}  // namespace crm::crmctl
