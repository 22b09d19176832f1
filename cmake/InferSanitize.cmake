# INFER_SANITIZE=ON instruments every C/C++ target with ASan + UBSan; UBSan findings abort so
# that ctest reports them as failures. INFER_SANITIZE_THREAD=ON instruments them with
# ThreadSanitizer instead (for the Engine's concurrency tests; run them with OMP_NUM_THREADS=1,
# since libgomp's own threads are not instrumented and would be reported falsely).
option(INFER_SANITIZE_THREAD "Build with ThreadSanitizer" OFF)
# INFER_FUZZ=ON builds the libFuzzer targets of test/fuzz (clang only): everything is compiled
# with ASan + UBSan and libFuzzer's coverage instrumentation. tools/fuzz.sh configures and runs it.
if(INFER_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "INFER_FUZZ needs clang's libFuzzer: configure with CC=clang CXX=clang++")
  endif()
  set(INFER_SANITIZE ON)
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX,C>:-fsanitize=fuzzer-no-link>")
endif()
if(INFER_SANITIZE AND INFER_SANITIZE_THREAD)
  message(FATAL_ERROR "INFER_SANITIZE and INFER_SANITIZE_THREAD cannot be combined")
endif()
if(INFER_SANITIZE OR INFER_SANITIZE_THREAD)
  if(INFER_WITH_CUDA)
    message(FATAL_ERROR "the sanitizers need INFER_CUDA=OFF (the CUDA runtime is not clean)")
  endif()
  if(INFER_SANITIZE)
    set(_infer_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  else()
    set(_infer_san -fsanitize=thread -fno-omit-frame-pointer)
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX,C>:${_infer_san}>")
  add_link_options(${_infer_san})
endif()
