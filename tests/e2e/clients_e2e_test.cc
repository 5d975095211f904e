// End to end with real clients: a reflection-only Python client, a generated
// Python client, crmctl.
#include "tests/e2e/customer_suite.h"

namespace crm::testing {
namespace {

TEST_CASE("a reflection client with no compiled-in protos calls the suite via the gateway",
          "[e2e][reflection]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-reflect", "customer.*");
  int code = -1;
  const std::string out = RunCapture("/usr/bin/python3",
                                     {CRM_REFLECTION_CLIENT, CRM_REFLECTION_STUBS,
                                      absl::StrCat("127.0.0.1:", s.gateway_port()), key},
                                     &code);
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("reflection client: ok") != std::string::npos);
}

TEST_CASE("a Python client generated from protos/ works through the gateway", "[e2e]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-py", "customer.*");
  int code = -1;
  // Debian's interpreter, which has python3-grpcio; not whatever is first on PATH.
  const std::string out = RunCapture(
      "/usr/bin/python3",
      {CRM_PYTHON_CLIENT, CRM_PYTHON_STUBS, absl::StrCat("127.0.0.1:", s.gateway_port()), key},
      &code);
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("python client: ok") != std::string::npos);
}

TEST_CASE("crmctl drives the suite through the gateway", "[e2e]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-cli", "*");
  const std::vector<std::string> base = {absl::StrCat("--addr=127.0.0.1:", s.gateway_port()),
                                         "--key=" + key};
  auto crmctl = [&](std::vector<std::string> args, int* code) {
    std::vector<std::string> all = base;
    all.insert(all.end(), args.begin(), args.end());
    return RunCapture(CRM_CRMCTL_BIN, all, code);
  };
  int code = -1;
  std::string out = crmctl(
      {"customers", "create", "--email=cli@example.com", "--country=NL", "--tags=cli"}, &code);
  REQUIRE(code == 0);
  const size_t at = out.find("customers/");
  REQUIRE(at != std::string::npos);
  const std::string name = out.substr(at, std::string("customers/").size() + 36);

  out = crmctl({"customers", "get", name}, &code);
  CHECK(code == 0);
  CHECK(out.find("cli@example.com") != std::string::npos);
  out = crmctl({"customers", "update", name, "--given_name=Cleo"}, &code);
  CHECK(code == 0);
  CHECK(out.find("\"given_name\": \"Cleo\"") != std::string::npos);
  out = crmctl({"customers", "list", "--filter=tags:\"cli\""}, &code);
  CHECK(code == 0);
  CHECK(out.find(name) != std::string::npos);

  // Import: good rows are created, bad rows are reported and make the exit non-zero.
  const std::string csv = absl::StrCat("/tmp/crm-e2e-import-", getpid(), ".csv");
  WriteFile(csv,
            "external_id,email,given_name,family_name,country,phone,tags\n"
            "imp-1,one@example.com,One,,GB,,a;b\n"
            "imp-2,not-an-email,Two,,GB,,\n"
            "imp-3,three@example.com,Three,,FR,+33612345678,\n");
  out = crmctl({"customers", "import", "--csv=" + csv}, &code);
  CHECK(code == 1);
  out = crmctl({"customers", "list", "--filter=external_id = \"imp*\"", "--all"}, &code);
  CHECK(code == 0);
  CHECK(out.find("imp-1") != std::string::npos);
  CHECK(out.find("imp-2") == std::string::npos);
  CHECK(out.find("imp-3") != std::string::npos);
  // Importing again creates nothing new (idempotent by external_id).
  crmctl({"customers", "import", "--csv=" + csv}, &code);
  out = crmctl({"customers", "list", "--filter=external_id = \"imp*\"", "--all"}, &code);
  CHECK(std::count(out.begin(), out.end(), '\n') == 2);
  std::remove(csv.c_str());

  // Orders import: the lines of one order make one order; an unknown
  // customer is reported and makes the exit non-zero.
  const std::string orders = absl::StrCat("/tmp/crm-e2e-orders-", getpid(), ".csv");
  WriteFile(orders,
            "order_id,customer_external_id,order_time,status,currency_code,refunded_minor,"
            "sales_channel,sku,product_name,category,quantity,unit_price_minor\n"
            "o-1,imp-1,2024-05-01T10:00:00Z,paid,GBP,0,web,MUG,\"Mug, large\",home,2,450\n"
            "o-1,imp-1,2024-05-01T10:00:00Z,paid,GBP,0,web,TEA,Tea,food,1,300\n"
            "o-2,nobody,2024-05-02T10:00:00Z,paid,GBP,0,web,MUG,Mug,home,1,450\n");
  out = crmctl({"orders", "import", "--csv=" + orders}, &code);
  CHECK(code == 1);
  std::remove(orders.c_str());
  out = crmctl({"customers", "list", "--filter=facts.total_spent_minor = 1200"}, &code);
  CHECK(code == 0);
  CHECK(out.find("imp-1") != std::string::npos);

  // Duplicates and a merge preview through the gateway.
  out = crmctl({"customers", "create", "--email=CLI@example.com", "--given_name=Cleo"}, &code);
  REQUIRE(code == 0);
  const std::string twin =
      out.substr(out.find("customers/"), std::string("customers/").size() + 36);
  out = crmctl({"customers", "duplicates"}, &code);
  CHECK(code == 0);
  CHECK(out.find(twin) != std::string::npos);
  out = crmctl({"customers", "merge", name, "--merged=" + twin, "--validate_only"}, &code);
  CHECK(code == 0);
  CHECK(out.find("\"merged\": \"" + twin) != std::string::npos);
  out = crmctl({"customers", "get", twin}, &code);
  CHECK(out.find("delete_time") == std::string::npos);  // only a preview

  out = crmctl({"consent", "record", name, "--channel=email", "--purpose=marketing",
                "--status=granted", "--source=cli", "--text_version=v1"},
               &code);
  CHECK(code == 0);
  out = crmctl({"consent", "check", name, "--channel=email", "--purpose=marketing"}, &code);
  CHECK(code == 0);
  CHECK(out.find("\"allowed\": true") != std::string::npos);

  // A rule: tickets about a lid are tagged and noted as they are created.
  out = crmctl({"rules", "new",
                "--json={\"displayName\": \"Lids\", \"triggers\": [\"RULE_TRIGGER_CREATED\"], "
                "\"allConditions\": [{\"field\": \"subject\", \"operator\": "
                "\"RULE_OPERATOR_CONTAINS\", \"value\": \"lid\"}], \"actions\": [{\"addTags\": "
                "{\"tags\": [\"lids\"]}}, {\"addInternalNote\": \"Ask for a photo\"}]}"},
               &code);
  REQUIRE(code == 0);
  CHECK(out.find("enabled  CREATED") != std::string::npos);
  const std::string rule = out.substr(0, out.find(' '));
  out = crmctl({"rules", "list"}, &code);
  CHECK(out.find(rule) != std::string::npos);

  // Tickets: open one for the customer, reply, solve, and list.
  out = crmctl({"tickets", "create", "--requester=" + name, "--subject=Lid cracked",
                "--priority=high", "--channel=email", "--tags=damage"},
               &code);
  REQUIRE(code == 0);
  CHECK(out.find("\"status\": \"STATUS_NEW\"") != std::string::npos);
  const std::string ticket = out.substr(out.find("tickets/"), std::string("tickets/").size() + 36);
  CHECK(out.find("\"lids\"") != std::string::npos);
  out = crmctl({"rules", "firings", ticket}, &code);
  CHECK(code == 0);
  CHECK(out.find("CreateTicket") != std::string::npos);
  CHECK(out.find("tags damage → damage,lids; note " + ticket + "/comments/") != std::string::npos);
  out = crmctl({"rules", "disable", rule}, &code);
  CHECK(out.find("disabled") != std::string::npos);
  // A custom field, set by key and found by a filter.
  out = crmctl({"tickets", "new-field",
                "--json={\"key\": \"refund_amount\", \"displayName\": \"Refund amount\", "
                "\"type\": \"CUSTOM_FIELD_TYPE_NUMBER\"}"},
               &code);
  REQUIRE(code == 0);
  out = crmctl({"tickets", "fields"}, &code);
  CHECK(out.find("ticketFields/refund_amount") != std::string::npos);
  CHECK(out.find("NUMBER") != std::string::npos);
  out = crmctl({"tickets", "update", ticket, "--fields=refund_amount=49.5"}, &code);
  CHECK(code == 0);
  out = crmctl({"tickets", "list", "--filter=custom_fields.refund_amount > 40"}, &code);
  CHECK(out.find(ticket) != std::string::npos);
  out = crmctl({"tickets", "update", ticket, "--fields=colour=red"}, &code);
  CHECK(code == 2);
  out = crmctl({"tickets", "comment", ticket, "--body=A new lid is on its way", "--author=ann"},
               &code);
  CHECK(code == 0);
  out = crmctl({"tickets", "status", ticket, "--status=solved"}, &code);
  CHECK(code == 0);
  CHECK(out.find("SOLVED") != std::string::npos);
  out = crmctl({"tickets", "list", "--filter=priority = \"HIGH\" AND tags:\"damage\""}, &code);
  CHECK(code == 0);
  CHECK(out.find(ticket + "  SOLVED   HIGH") != std::string::npos);
  CHECK(out.find("Lid cracked") != std::string::npos);
  out = crmctl({"tickets", "comments", ticket}, &code);
  CHECK(code == 0);
  CHECK(out.find("AGENT ann (public)") != std::string::npos);
  out = crmctl({"tickets", "status", ticket, "--status=new"}, &code);
  CHECK(code == 1);
  out = crmctl({"tickets", "new-status", "--label=Refund issued", "--status=solved"}, &code);
  REQUIRE(code == 0);
  const std::string custom =
      out.substr(out.find("customStatuses/"), std::string("customStatuses/").size() + 36);
  out = crmctl({"tickets", "statuses"}, &code);
  CHECK(out.find(custom + "  SOLVED   Refund issued") != std::string::npos);
  out = crmctl({"tickets", "status", ticket, "--custom_status=" + custom}, &code);
  CHECK(code == 0);
  out = crmctl({"tickets", "get", ticket}, &code);
  CHECK(out.find("\"custom_status\": \"" + custom) != std::string::npos);

  out = crmctl({"customers", "delete", name}, &code);
  CHECK(code == 0);
  CHECK(out.find("delete_time") != std::string::npos);
  crmctl({"customers", "get", "customers/not-a-uuid"}, &code);
  CHECK(code == 1);
  out = RunCapture(CRM_CRMCTL_BIN, {base[0], "health"}, &code);
  CHECK(code == 0);
  CHECK(out == "SERVING\n");
}

}  // namespace
}  // namespace crm::testing
