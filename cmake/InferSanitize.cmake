# INFER_SANITIZE=ON instruments every C/C++ target with ASan + UBSan; UBSan findings abort so
# that ctest reports them as failures.
if(INFER_SANITIZE)
  if(INFER_WITH_CUDA)
    message(FATAL_ERROR "INFER_SANITIZE needs INFER_CUDA=OFF (the CUDA runtime is not ASan-clean)")
  endif()
  set(_infer_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX,C>:${_infer_san}>")
  add_link_options(${_infer_san})
endif()
