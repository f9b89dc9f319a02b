// Direct 2-D convolution for astro-conv1: every filter of a first layer over a whole photo.
// Input HWC, kernel HWIO, output HWC; stride 1, no padding. Rows of the output are split across
// threads. On x86-64 CPUs with AVX2 and FMA, a register-blocked kernel computes 6 output pixels ×
// 16 filters per step, keeping the 16 filters' weights for one tap in two vector registers; with
// AVX-512, 8 pixels × 32 filters where that is faster. The two vector loops add the taps in the same
// order with fused multiply-adds, so they give the same bits. Other CPUs and shapes take the portable loop.
#include <node_api.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <cstdint>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

struct Shape {
  int height, width, cin, kh, kw, cout, out_h, out_w;
};

void convolve_rows_portable(const Shape& s, const float* in, const float* k, float* out, int y0, int y1) {
  std::vector<float> acc(s.cout);
  for (int y = y0; y < y1; y++)
    for (int x = 0; x < s.out_w; x++) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int ky = 0; ky < s.kh; ky++)
        for (int kx = 0; kx < s.kw; kx++)
          for (int c = 0; c < s.cin; c++) {
            const float v = in[((y + ky) * s.width + x + kx) * s.cin + c];
            const float* w = k + ((ky * s.kw + kx) * s.cin + c) * s.cout;
            for (int f = 0; f < s.cout; f++) acc[f] += v * w[f];
          }
      std::copy(acc.begin(), acc.end(), out + (static_cast<int64_t>(y) * s.out_w + x) * s.cout);
    }
}

// The weights in blocks of `block` filters, tap by tap, contiguous: the vector loop reads them in
// order, and all blocks together stay in the L1/L2 cache while an output row is computed.
std::vector<float> pack_weights(const Shape& s, const float* k, int block) {
  const int taps = s.kh * s.kw * s.cin;
  std::vector<float> packed(static_cast<size_t>(s.cout) * taps);
  for (int b = 0; b < s.cout / block; b++)
    for (int t = 0; t < taps; t++)
      for (int j = 0; j < block; j++) packed[(static_cast<size_t>(b) * taps + t) * block + j] = k[static_cast<size_t>(t) * s.cout + b * block + j];
  return packed;
}

// Input offsets of each tap relative to the top-left input pixel of an output pixel.
std::vector<int> tap_offsets(const Shape& s) {
  std::vector<int> offsets(static_cast<size_t>(s.kh) * s.kw * s.cin);
  for (int ky = 0, t = 0; ky < s.kh; ky++)
    for (int kx = 0; kx < s.kw; kx++)
      for (int c = 0; c < s.cin; c++, t++) offsets[t] = (ky * s.width + kx) * s.cin + c;
  return offsets;
}

#if defined(__x86_64__)
// The vector loop, once per instruction set: everything defined between push and pop, the included
// loop too, is compiled for that set only, and runs only where the CPU has it.
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
struct Vec {
  using T = __m256;
  static constexpr int kLanes = 8;
  static T zero() { return _mm256_setzero_ps(); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
};
// 6 pixels × 16 filters: twelve accumulators of the sixteen registers.
constexpr int kPixels = 6;
#include "conv2d-vector-loop.inc"
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f")
namespace avx512 {
struct Vec {
  using T = __m512;
  static constexpr int kLanes = 16;
  static T zero() { return _mm512_setzero_ps(); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
};
// 8 pixels × 32 filters: sixteen accumulators of the thirty-two registers.
constexpr int kPixels = 8;
#include "conv2d-vector-loop.inc"
}  // namespace avx512
#pragma GCC pop_options

bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
#endif

enum class Loop { kPortable, kAvx2, kAvx512 };

// One convolution with the given loop, rows split over `threads` threads; the weights are packed
// once for all of them.
void convolve_with(Loop loop, const Shape& s, const float* in, const float* k, float* out, int threads) {
  std::vector<float> packed;
  std::vector<int> offsets;
#if defined(__x86_64__)
  if (loop != Loop::kPortable) {
    packed = pack_weights(s, k, loop == Loop::kAvx512 ? 32 : 16);
    offsets = tap_offsets(s);
  }
#endif
  auto work = [&](int y0, int y1) {
#if defined(__x86_64__)
    if (loop == Loop::kAvx512) return avx512::convolve_rows(s, in, packed.data(), offsets.data(), out, y0, y1);
    if (loop == Loop::kAvx2) return avx2::convolve_rows(s, in, packed.data(), offsets.data(), out, y0, y1);
#endif
    convolve_rows_portable(s, in, k, out, y0, y1);
  };
  threads = std::max(1, std::min(threads, s.out_h));
  std::vector<std::thread> pool;
  const int step = (s.out_h + threads - 1) / threads;
  for (int t = 1; t < threads; t++) pool.emplace_back(work, std::min(s.out_h, t * step), std::min(s.out_h, (t + 1) * step));
  work(0, std::min(s.out_h, step));
  for (auto& thread : pool) thread.join();
}

#if defined(__x86_64__)
double seconds_for(Loop loop, const Shape& s, const float* in, const float* k, float* out) {
  double best = 1e9;
  for (int run = 0; run < 3; run++) {
    const auto started = std::chrono::steady_clock::now();
    convolve_with(loop, s, in, k, out, 1);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return best;
}

// Whether the AVX-512 loop beats the AVX2 one on this machine. Usually by about 40%, but some
// virtual CPUs that report AVX-512 run it several times slower than AVX2; a few milliseconds on a
// small probe, once per process, tell them apart.
bool avx512_is_faster() {
  static const bool faster = [] {
    Shape s{64, 64, 3, 7, 7, 64, 58, 58};
    std::vector<float> in(static_cast<size_t>(s.height) * s.width * s.cin), k(static_cast<size_t>(s.kh) * s.kw * s.cin * s.cout);
    std::vector<float> out(static_cast<size_t>(s.out_h) * s.out_w * s.cout);
    for (size_t i = 0; i < in.size(); i++) in[i] = static_cast<float>((i * 7919) % 255) / 255.0f;
    for (size_t i = 0; i < k.size(); i++) k[i] = static_cast<float>((i * 104729) % 199) / 199.0f - 0.5f;
    return seconds_for(Loop::kAvx512, s, in.data(), k.data(), out.data()) < seconds_for(Loop::kAvx2, s, in.data(), k.data(), out.data());
  }();
  return faster;
}
#endif

// The vector loops need whole blocks of 16 (AVX2) or 32 (AVX-512) filters and a CPU with the
// instructions. CONV1_NATIVE_LOOP=portable|avx2|avx512 asks for one (where it can run), e.g. to
// compare them or to test each.
Loop choose_loop(const Shape& s) {
  const char* asked = std::getenv("CONV1_NATIVE_LOOP");
  const std::string wanted = asked ? asked : "";
  if (wanted == "portable") return Loop::kPortable;
#if defined(__x86_64__)
  if (s.cout % 16 != 0 || !has_avx2()) return Loop::kPortable;
  const bool avx512 = s.cout % 32 == 0 && has_avx512();
  if (wanted == "avx2" || !avx512) return Loop::kAvx2;
  if (wanted == "avx512" || avx512_is_faster()) return Loop::kAvx512;
  return Loop::kAvx2;
#else
  return Loop::kPortable;
#endif
}

napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

bool float_array(napi_env env, napi_value value, float** data, size_t* length) {
  napi_typedarray_type type;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &buffer, &offset) != napi_ok || type != napi_float32_array) return false;
  *data = static_cast<float*>(raw);
  return true;
}

// conv2d(input: Float32Array, height, width, cin, kernel: Float32Array, kh, kw, cout, threads) → Float32Array
napi_value conv2d(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 9) return fail(env, "conv2d: expected 9 arguments");
  float *in, *k;
  size_t in_length, k_length;
  if (!float_array(env, argv[0], &in, &in_length) || !float_array(env, argv[4], &k, &k_length)) return fail(env, "conv2d: input and kernel must be Float32Arrays");
  int32_t n[7];
  const int at[7] = {1, 2, 3, 5, 6, 7, 8};
  for (int i = 0; i < 7; i++)
    if (napi_get_value_int32(env, argv[at[i]], &n[i]) != napi_ok || n[i] <= 0) return fail(env, "conv2d: sizes must be positive integers");
  Shape s{n[0], n[1], n[2], n[3], n[4], n[5], n[0] - n[3] + 1, n[1] - n[4] + 1};
  if (s.out_h <= 0 || s.out_w <= 0) return fail(env, "conv2d: the kernel is larger than the input");
  if (in_length != static_cast<size_t>(s.height) * s.width * s.cin || k_length != static_cast<size_t>(s.kh) * s.kw * s.cin * s.cout)
    return fail(env, "conv2d: array lengths do not match the sizes");
  const size_t out_length = static_cast<size_t>(s.out_h) * s.out_w * s.cout;
  void* out;
  napi_value buffer, result;
  if (napi_create_arraybuffer(env, out_length * sizeof(float), &out, &buffer) != napi_ok) return fail(env, "conv2d: out of memory");
  convolve_with(choose_loop(s), s, in, k, static_cast<float*>(out), n[6]);
  napi_create_typedarray(env, napi_float32_array, out_length, buffer, 0, &result);
  return result;
}

// kernelName(cout) → "avx512" | "avx2" | "portable": which loop conv2d runs for that many filters.
napi_value kernel_for(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t cout = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &cout) != napi_ok) return fail(env, "kernelName: expected a filter count");
  Shape s{1, 1, 1, 1, 1, cout, 1, 1};
  const Loop loop = choose_loop(s);
  napi_create_string_utf8(env, loop == Loop::kAvx512 ? "avx512" : loop == Loop::kAvx2 ? "avx2" : "portable", NAPI_AUTO_LENGTH, &result);
  return result;
}

napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"conv2d", nullptr, conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"kernelName", nullptr, kernel_for, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 2, properties);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
