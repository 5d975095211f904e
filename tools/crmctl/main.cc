// crmctl: call the suite from a shell with nothing else installed.
//
// crmctl [--addr host:port] [--key KEY | CRM_API_KEY] <group> <verb> [args]
//
// customers: create | get NAME | list | update NAME | delete NAME | import --csv FILE |
//   duplicates | merge SURVIVOR --merged NAME [--validate_only] | unmerge merges/ID
//   (import columns: external_id,email,given_name,family_name,country,phone,tags)
// orders: import --csv FILE (columns: order_id,customer_external_id,order_time,
//   status,currency_code,refunded_minor,sales_channel,sku,product_name,category,
//   quantity,unit_price_minor; one line per order line)
// consent: record NAME | check NAME | list NAME [--history]
// apikeys: create | revoke NAME | list (with --admin_token_file)
// tickets: create --requester customers/ID --subject S | get NAME | list [--filter F] |
//   status NAME --status S | comment NAME --body B [--internal] | comments NAME |
//   merge NAME --into TARGET | statuses | new-status --label L --status CATEGORY |
//   update NAME [--subject S] [--priority P] [--tags T] [--order O] | sla NAME |
//   rate NAME --good|--bad|--score N [--body COMMENT] |
//   assign NAME [--group G] [--assignee A] |
//   escalate NAME --body REASON [--priority P] [--group G] |
//   fields | new-field --json J |
//   update NAME --fields key=value,... --followers agents/ID,...
// routing: groups | new-group --json J | agents | new-agent --json J |
//   away NAME | back NAME
// rules: list | new --json J | show NAME | enable NAME | disable NAME |
//   delete NAME | firings tickets/ID|rules/ID
// sla: calendars | new-calendar --json J | delete-calendar NAME | policies |
//   new-policy --json J | delete-policy NAME
// conversations: list [--filter F] | get NAME | messages NAME |
//   timeline customers/ID [--filter F] |
//   receive --channel C --from ADDR --body TEXT [--thread_id T] [--subject S] |
//   receive --raw_file FILE (an e-mail) | status NAME --status S [--snooze_minutes M] |
//   label NAME --tags a,b | merge NAME --into TARGET |
//   send NAME --body TEXT [--subject S] [--purpose marketing] |
//   send --requester customers/ID --channel email --body TEXT |
//   open-ticket NAME [--subject S]
// chat [conversations/ID] [--author agents/ID] [--after N] | chat --requester customers/ID:
//   a live chat from the terminal, one message per line
// accounts: list | new --json J | show NAME | delete NAME
// suppressions: list [--filter F] | add ADDRESS --status REASON | remove NAME
// health
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/server/health_client.h"
#include "tools/crmctl/cli.h"

using crm::crmctl::Channel;

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "crmctl [flags] customers "
      "create|get|list|search|update|delete|import|duplicates|merge|unmerge | "
      "orders import | consent "
      "record|check|list | apikeys "
      "create|revoke|list | tickets "
      "create|get|list|update|sla|rate|assign|escalate|status|comment|comments|merge|statuses|"
      "new-status|fields|new-field "
      "| sla "
      "calendars|new-calendar|delete-calendar|policies|new-policy|delete-policy | routing "
      "groups|new-group|agents|new-agent|away|back | rules "
      "list|new|show|enable|disable|delete|firings | conversations "
      "list|get|messages|timeline|receive|send|status|label|open-ticket|merge | chat | accounts "
      "list|new|show|update|delete | suppressions list|add|remove | value "
      "rfm|fit|model|customer | reports cohorts|forecast|support|engagement|pricing|export | kpis "
      "watch | "
      "health");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "usage: %s\n", absl::ProgramUsageMessage().data());
    return 2;
  }
  const std::string group = args[1];
  if (group == "customers") return crm::crmctl::Customers(args);
  if (group == "orders") return crm::crmctl::Orders(args);
  if (group == "apikeys") return crm::crmctl::ApiKeys(args);
  if (group == "consent") return crm::crmctl::Consents(args);
  if (group == "tickets") return crm::crmctl::Tickets(args);
  if (group == "sla") return crm::crmctl::Sla(args);
  if (group == "routing") return crm::crmctl::Routing(args);
  if (group == "rules") return crm::crmctl::Rules(args);
  if (group == "conversations") return crm::crmctl::Conversations(args);
  if (group == "chat") return crm::crmctl::Chat(args);
  if (group == "accounts") return crm::crmctl::Accounts(args);
  if (group == "suppressions") return crm::crmctl::Suppressions(args);
  if (group == "value") return crm::crmctl::Value(args);
  if (group == "reports") return crm::crmctl::Reports(args);
  if (group == "kpis") return crm::crmctl::Kpis(args);
  if (group == "health") {
    auto state = crm::server::CheckHealth(Channel());
    if (!state.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(state.status().message()).c_str());
      return 1;
    }
    const bool serving = *state == crm::server::HealthState::kServing;
    std::printf("%s\n", serving ? "SERVING" : "NOT_SERVING");
    return serving ? 0 : 1;
  }
  std::fprintf(stderr, "unknown command: %s\n", group.c_str());
  return 2;
}
