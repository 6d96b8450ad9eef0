//===- Export.h - symbol visibility of libssprop_torch ----------*- C++ -*-===//
//
// libssprop_torch is built with hidden visibility: only what is marked
// SSPROP_TORCH_API is part of its C++ interface.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TORCH_EXPORT_H
#define SSPROP_TORCH_EXPORT_H

#if defined(_WIN32)
#if defined(SSPROP_TORCH_BUILDING)
#define SSPROP_TORCH_API __declspec(dllexport)
#else
#define SSPROP_TORCH_API __declspec(dllimport)
#endif
#else
#define SSPROP_TORCH_API __attribute__((visibility("default")))
#endif

#endif // SSPROP_TORCH_EXPORT_H
