// Status propagation macros. Debian's Abseil (20220623) ships no status
// macros, so Vigil has its own two.
#ifndef VIGIL_BASE_STATUS_MACROS_H_
#define VIGIL_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VIGIL_STATUS_CONCAT_INNER_(a, b) a##b
#define VIGIL_STATUS_CONCAT_(a, b) VIGIL_STATUS_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): returns the status of `expr` when it is not OK.
#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    ::absl::Status vigil_status_ = (expr);                      \
    if (!vigil_status_.ok()) return vigil_status_;              \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates a StatusOr expression; on error
// returns its status, otherwise moves the value into `lhs` (which may be a
// declaration such as `auto x`).
#define ASSIGN_OR_RETURN(lhs, expr)                                           \
  ASSIGN_OR_RETURN_IMPL_(VIGIL_STATUS_CONCAT_(vigil_statusor_, __LINE__), lhs, \
                         expr)
#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                          \
  if (!statusor.ok()) return statusor.status();    \
  lhs = std::move(statusor).value()

#endif  // VIGIL_BASE_STATUS_MACROS_H_
