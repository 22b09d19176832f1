# Third-party libraries, all from Debian packages (see tools/install_deps.sh).
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Armadillo REQUIRED)
# OpenBLAS built on OpenMP shares libinfer's one thread pool. The pthreads build runs its own
# pool, whose threads and OpenMP's spinning threads fight over the cores: on 2 cores that cost
# 100 ms before the first token and a third of decode speed. Debian installs the OpenMP build
# in its own folder (libopenblas-openmp-dev); link it there and keep that folder in the RPATH.
find_library(INFER_OPENBLAS_OPENMP openblas
             PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
if(INFER_OPENBLAS_OPENMP)
  set(BLAS_LIBRARIES ${INFER_OPENBLAS_OPENMP})
  message(STATUS "libinfer: OpenBLAS (OpenMP build) ${INFER_OPENBLAS_OPENMP}")
else()
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS REQUIRED)
  message(WARNING "libinfer: OpenBLAS's OpenMP build not found (apt-get install "
                  "libopenblas-openmp-dev); using ${BLAS_LIBRARIES}, whose own thread pool "
                  "competes with libinfer's OpenMP threads")
endif()
find_package(glog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
if(INFER_BUILD_DEMOS OR INFER_BUILD_BENCH)
  find_package(gflags REQUIRED)
endif()
if(INFER_BUILD_DEMOS OR INFER_BUILD_BENCH OR INFER_FUZZ)
  # infer_server's HTTP layer (Debian: libcpp-httplib-dev).
  find_package(Threads REQUIRED)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()
if(INFER_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
endif()
if(INFER_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
