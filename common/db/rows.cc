#include "common/db/rows.h"

#include <libpq-fe.h>

namespace crm::db {

bool Field::is_null() const { return PQgetisnull(result_, row_, column_) == 1; }

const char* Field::c_str() const { return PQgetvalue(result_, row_, column_); }

size_t Row::size() const { return static_cast<size_t>(PQnfields(result_)); }

Rows::Rows(pg_result* result) : result_(result, PQclear) {}

size_t Rows::size() const {
  return result_ == nullptr ? 0 : static_cast<size_t>(PQntuples(result_.get()));
}

}  // namespace crm::db
