# INFER_SANITIZE=ON instruments every C/C++ target with ASan + UBSan; UBSan findings abort so
# that ctest reports them as failures. INFER_SANITIZE_THREAD=ON instruments them with
# ThreadSanitizer instead (for the Engine's concurrency tests; run them with OMP_NUM_THREADS=1,
# since libgomp's own threads are not instrumented and would be reported falsely).
option(INFER_SANITIZE_THREAD "Build with ThreadSanitizer" OFF)
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
