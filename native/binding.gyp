{
  "targets": [
    {
      "target_name": "conv1_native",
      "sources": ["conv2d.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
