# Installs headers, libinfer and a CMake package so that consumers can
#   find_package(infer) and target_link_libraries(app PRIVATE infer::infer).

include(CMakePackageConfigHelpers)

install(TARGETS infer EXPORT inferTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/infer DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(INFER_WITH_CUDA)
  # Loaded at run time from beside libinfer.so; not linked by consumers.
  install(TARGETS infer_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(EXPORT inferTargets NAMESPACE infer:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/infer)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/inferConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/inferConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/infer)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/inferConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/inferConfig.cmake ${PROJECT_BINARY_DIR}/inferConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/infer)
if(INFER_BUILD_DEMOS)
  install(TARGETS llama_infer qwen_infer batch_infer infer_server tokenize
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
