# Warnings for our own targets only (LibTorch and Qt headers are system includes).
function(otcs_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(OTCS_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
