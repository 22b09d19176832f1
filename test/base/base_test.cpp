// base and tensor: dtypes, devices, allocation, buffers, views, copies, the kernel registry.
#include <gtest/gtest.h>

#include <cstdint>

#include "infer/base/allocator.h"
#include "infer/base/buffer.h"
#include "infer/base/error.h"
#include "infer/base/mapped_file.h"
#include "infer/kernels/registry.h"
#include "infer/tensor/tensor.h"
#include "test_data.h"

namespace infer {
namespace {

using base::DataType;
using base::DeviceType;
using tensor::Tensor;

TEST(DataType, SizesAndNamesRoundTrip) {
  EXPECT_EQ(base::dtype_size(DataType::kF32), 4u);
  EXPECT_EQ(base::dtype_size(DataType::kBF16), 2u);
  EXPECT_EQ(base::dtype_size(DataType::kI8), 1u);
  size_t count = 0;
  const base::DataTypeInfo* table = base::all_dtypes(&count);
  ASSERT_EQ(count, 13u);
  for (size_t i = 0; i < count; ++i) {
    EXPECT_EQ(base::parse_dtype(table[i].name), table[i].type);
    EXPECT_EQ(base::dtype_name(table[i].type), std::string(table[i].name));
  }
  EXPECT_THROW(base::parse_dtype("f64"), base::FormatError);
}

// Block formats are sized by whole blocks, never per element.
TEST(DataType, BlockFormatsAreSizedByBlocks) {
  EXPECT_TRUE(base::is_block_format(DataType::kQ4_K));
  EXPECT_FALSE(base::is_block_format(DataType::kBF16));
  EXPECT_EQ(base::dtype_bytes(DataType::kQ4_0, 64), 36u);
  EXPECT_EQ(base::dtype_bytes(DataType::kQ6_K, 512), 420u);
  EXPECT_EQ(base::dtype_bytes(DataType::kF16, 3), 6u);
  EXPECT_THROW(base::dtype_bytes(DataType::kQ8_0, 48), base::FormatError);
  EXPECT_THROW(base::dtype_size(DataType::kQ4_1), base::Error);
  const Tensor t = Tensor::zeros({4, 512}, DataType::kQ5_K, DeviceType::kCPU);
  EXPECT_EQ(t.bytes(), 4u * 2 * 176);
  EXPECT_EQ(t.rows(1, 3).bytes(), 2u * 2 * 176);
  EXPECT_EQ(static_cast<const uint8_t*>(t.rows(1, 3).raw_data()) -
                static_cast<const uint8_t*>(t.raw_data()),
            2 * 176);
}

TEST(Device, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(base::parse_device("cpu"), DeviceType::kCPU);
  EXPECT_EQ(base::parse_device("cuda"), DeviceType::kCUDA);
  EXPECT_THROW(base::parse_device("tpu"), base::InvalidArgument);
}

TEST(Device, CudaWithoutGpuIsAClearError) {
  if (base::cuda_available()) GTEST_SKIP() << "a GPU is present";
  try {
    base::require_device(DeviceType::kCUDA);
    FAIL() << "expected Unsupported";
  } catch (const base::Unsupported& e) {
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  }
}

TEST(Allocator, CpuMemoryIsAligned) {
  for (size_t bytes : {0u, 1u, 63u, 64u, 1000u}) {
    void* p = base::allocator_for(DeviceType::kCPU).allocate(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % base::kCpuAlignment, 0u);
    base::allocator_for(DeviceType::kCPU).release(p, bytes);
  }
}

TEST(Buffer, ViewDoesNotOwnAndKeepsOwnerAlive) {
  auto owner = std::make_shared<std::vector<float>>(16, 2.f);
  auto view = base::Buffer::view(owner->data(), 64, DeviceType::kCPU, owner);
  std::weak_ptr<std::vector<float>> weak = owner;
  owner.reset();
  EXPECT_FALSE(weak.expired());
  EXPECT_FALSE(view->owns_memory());
  EXPECT_EQ(static_cast<float*>(view->data())[3], 2.f);
}

TEST(Tensor, RowsAndReshapeAreViews) {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {3, 2});
  Tensor r = t.rows(1, 3);
  EXPECT_EQ(r.shape(), (tensor::Shape{2, 2}));
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{2, 3, 4, 5}));
  r.data<float>()[0] = 42;
  EXPECT_EQ(t.to_vector<float>()[2], 42);
  EXPECT_EQ(t.reshape({6}).numel(), 6);
}

TEST(Tensor, CopiesAreDeep) {
  Tensor t = Tensor::from_vector<int32_t>({1, 2, 3}, {3});
  Tensor c = t.to(DeviceType::kCPU);
  c.data<int32_t>()[0] = 9;
  EXPECT_EQ(t.to_vector<int32_t>()[0], 1);
  Tensor z = Tensor::zeros({2, 2}, DataType::kF32, DeviceType::kCPU);
  z.copy_from(Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(z.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Tensor, ViewOutsideBufferThrows) {
  auto buffer = base::Buffer::allocate(16, DeviceType::kCPU);
  EXPECT_THROW(Tensor::view(buffer, 8, {4}, DataType::kF32), base::Error);
  EXPECT_THROW(Tensor::from_vector<float>({1, 2}, {3}), base::InvalidArgument);
}

TEST(Tensor, CudaTensorWithoutGpuIsAClearError) {
  if (base::cuda_available()) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW(Tensor::empty({4}, DataType::kF32, DeviceType::kCUDA), base::Unsupported);
}

TEST(KernelRegistry, MissingKernelNamesOpDeviceAndDtype) {
  try {
    kernels::get_kernel<kernels::MatmulOp>(DeviceType::kCPU, DataType::kI32);
    FAIL() << "expected Unsupported";
  } catch (const base::Unsupported& e) {
    EXPECT_STREQ(e.what(), "no cpu kernel for op matmul with dtype i32");
  }
  EXPECT_NE(kernels::find_kernel({kernels::OpKind::kMatmul, DeviceType::kCPU, DataType::kF32}),
            nullptr);
  EXPECT_EQ(kernels::find_kernel({kernels::OpKind::kMatmul, DeviceType::kCUDA, DataType::kF32}) !=
                nullptr,
            base::built_with_cuda());
}

// Whatever a model file holds, a CUDA build runs it on the GPU as on the CPU: every weight dtype
// the CPU has a matmul, fused matmul group or embedding kernel for has one on CUDA. (Registration
// only: the kernels' results are OpTest.CudaMatchesCpu's, on a GPU.)
TEST(KernelRegistry, CudaHasAKernelForEveryWeightDtypeTheCpuHas) {
  if (!base::built_with_cuda()) GTEST_SKIP() << "libinfer was built without CUDA";
  size_t count = 0;
  const base::DataTypeInfo* dtypes = base::all_dtypes(&count);
  for (kernels::OpKind op :
       {kernels::OpKind::kMatmul, kernels::OpKind::kMatmulGroup, kernels::OpKind::kEmbedding}) {
    for (size_t i = 0; i < count; ++i) {
      if (!kernels::find_kernel({op, DeviceType::kCPU, dtypes[i].type})) continue;
      EXPECT_NE(kernels::find_kernel({op, DeviceType::kCUDA, dtypes[i].type}), nullptr)
          << kernels::op_name(op) << " " << dtypes[i].name;
    }
  }
}

TEST(MappedFile, MapsAFileAndReportsMissingOnes) {
  const std::string path = test::temp_path("mapped.bin");
  test::write_file(path, "hello");
  auto file = base::MappedFile::open(path);
  EXPECT_EQ(file->size(), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file->data()), 5), "hello");
  try {
    base::MappedFile::open(path + ".missing");
    FAIL();
  } catch (const base::FileError& e) {
    EXPECT_NE(std::string(e.what()).find(".missing"), std::string::npos);
  }
}

}  // namespace
}  // namespace infer
