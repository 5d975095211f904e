// The rows of a db::ReadOnce: a libpq result read through the same calls as
// a pqxx::row (`row[i].as<T>()`, `is_null()`, `c_str()`), so that one row
// reader serves both.
#pragma once

#include <cstddef>
#include <memory>
#include <pqxx/strconv>

struct pg_result;  // libpq's PGresult

namespace crm::db {

class Field {
 public:
  Field(const pg_result* result, int row, int column)
      : result_(result), row_(row), column_(column) {}
  bool is_null() const;
  // The text of the value; "" for NULL.
  const char* c_str() const;
  // The value parsed as T (pqxx's conversions); T{} for NULL.
  template <typename T>
  T as() const {
    T value{};
    if (!is_null()) pqxx::from_string(c_str(), value);
    return value;
  }

 private:
  const pg_result* result_;
  int row_;
  int column_;
};

class Row {
 public:
  Row(const pg_result* result, int row) : result_(result), row_(row) {}
  Field operator[](int column) const { return Field(result_, row_, column); }
  size_t size() const;

 private:
  const pg_result* result_;
  int row_;
};

class Rows {
 public:
  Rows() = default;
  // Takes ownership of `result` (PQclear when the last copy goes).
  explicit Rows(pg_result* result);
  size_t size() const;
  bool empty() const { return size() == 0; }
  Row operator[](size_t row) const { return Row(result_.get(), static_cast<int>(row)); }

 private:
  std::shared_ptr<pg_result> result_;
};

}  // namespace crm::db
