// crmctl's CSV reading and order assembly.
#include "tools/crmctl/csv_import.h"

#include <catch2/catch.hpp>

namespace crm::crmctl {
namespace {

TEST_CASE("CSV records: quotes protect commas and double up", "[unit][crmctl]") {
  CHECK(ParseCsvLine("a,b,,c") == std::vector<std::string>{"a", "b", "", "c"});
  CHECK(ParseCsvLine("1,\"RECORD FRAME 7\"\" SINGLE, SIZE\",3\r") ==
        std::vector<std::string>{"1", "RECORD FRAME 7\" SINGLE, SIZE", "3"});
  CHECK(ParseCsvLine("") == std::vector<std::string>{""});
}

std::vector<std::string> Line(const std::string& order_id, const std::string& sku,
                              const std::string& quantity, const std::string& price,
                              const std::string& status = "fulfilled") {
  return {order_id, "uci-1", "2011-01-02T03:04:05Z", status, "GBP", "0", "web", sku, "Mug", "",
          quantity, price};
}

TEST_CASE("order lines group into orders with their totals", "[unit][crmctl]") {
  OrderAssembler assembler;
  std::optional<crm::customer::v1::Order> done;
  REQUIRE(assembler.Add(Line("o-1", "A", "2", "150"), 2, &done).ok());
  CHECK_FALSE(done);
  REQUIRE(assembler.Add(Line("o-1", "B", "1", "99"), 3, &done).ok());
  CHECK_FALSE(done);
  REQUIRE(assembler.Add(Line("o-2", "A", "1", "150", "partially_refunded"), 4, &done).ok());
  REQUIRE(done);
  CHECK(done->order_id() == "o-1");
  CHECK(done->line_items_size() == 2);
  CHECK(done->total_minor() == 399);
  CHECK(done->status() == crm::customer::v1::ORDER_STATUS_FULFILLED);
  CHECK(done->customer_external_id() == "uci-1");
  CHECK(done->order_time().seconds() == 1293937445);
  CHECK(assembler.first_line_of_done() == 2);

  // A malformed line names its line and column; its order is dropped whole.
  absl::Status bad = assembler.Add(Line("o-3", "A", "x", "1"), 5, &done);
  CHECK(bad.message() == "line 5: quantity: not a whole number");
  REQUIRE(done);
  CHECK(done->order_id() == "o-2");
  CHECK(done->status() == crm::customer::v1::ORDER_STATUS_PARTIALLY_REFUNDED);
  CHECK(assembler.Add(Line("o-3", "B", "1", "1"), 6, &done).ok());
  CHECK(assembler.Add(Line("o-4", "A", "1", "1", "lost"), 7, &done).message() ==
        "line 7: status: one of placed, paid, fulfilled, cancelled, refunded, partially_refunded");
  CHECK_FALSE(done);               // o-3 was bad
  CHECK_FALSE(assembler.Flush());  // and so is o-4
  CHECK(assembler.Add({"too", "few"}, 8, &done).message() ==
        "line 8: row: has 2 columns, expected 12");
}

}  // namespace
}  // namespace crm::crmctl
