#pragma once
// Exceptions thrown for anything caused by input: a model file, a tokenizer, a prompt, a flag.
// Messages carry the context a user needs to fix the input (file, tensor, expected vs got).
// Invariants the code guarantees itself are checked with glog's CHECK instead.
#include <stdexcept>
#include <string>

namespace infer::base {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A caller passed a value that can never work (empty prompt, negative size, bad flag).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// A file could not be opened, read or mapped.
class FileError : public Error {
 public:
  using Error::Error;
};

// A file was read but its content is malformed or inconsistent.
class FormatError : public Error {
 public:
  using Error::Error;
};

// The request is valid but this build or machine cannot serve it (no CUDA, no kernel for a dtype).
class Unsupported : public Error {
 public:
  using Error::Error;
};

}  // namespace infer::base
