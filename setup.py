"""Build the optional compiled record walk (``analyzer.capture._walk``).

Everything else is declared in pyproject.toml. When the C compiler or the Python headers
are missing, the build goes on without the extension and says so in one line; the reader
then walks the records in Python (the same results, slower).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # any build failure means the fallback
            print(f"analyzer: compiled record walk not built ({exc}); using the Python walk")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"analyzer: compiled record walk not built ({exc}); using the Python walk")


setup(
    ext_modules=[Extension("analyzer.capture._walk", ["analyzer/capture/_walk.c"],
                           extra_compile_args=["-O2"])],
    cmdclass={"build_ext": OptionalBuildExt},
)
