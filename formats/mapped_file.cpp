#include "formats/mapped_file.h"

#include "core/error.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

namespace {

constexpr size_t kHugePage = size_t(2) << 20;

// Maps the file read-only. A large file (a model's weights) is placed at a 2 MiB-aligned address
// and advised MADV_HUGEPAGE: where the kernel keeps the file in huge page-cache folios it can
// then map them with 2 MiB entries, so streaming the weights for each token walks a few hundred
// TLB entries instead of hundreds of thousands. The advice is only a hint; STRATA_NO_HUGEPAGE=1
// turns it off (for measuring it).
void* map_aligned(int fd, size_t size) {
    const char* off = std::getenv("STRATA_NO_HUGEPAGE");
    if (size < 16 * kHugePage || (off && *off && *off != '0'))
        return mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    // reserve size + 2 MiB of address space, then map the file over its aligned start
    void* area = mmap(nullptr, size + kHugePage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) return MAP_FAILED;
    const uintptr_t start = (reinterpret_cast<uintptr_t>(area) + kHugePage - 1) & ~(kHugePage - 1);
    void* p = mmap(reinterpret_cast<void*>(start), size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) {
        munmap(area, size + kHugePage);
        return MAP_FAILED;
    }
    // give back the reservation around the mapping
    const uintptr_t a = reinterpret_cast<uintptr_t>(area), end = start + size;
    if (start > a) munmap(area, start - a);
    const uintptr_t area_end = a + size + kHugePage;
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    const uintptr_t tail = (end + page - 1) & ~(page - 1);
    if (area_end > tail) munmap(reinterpret_cast<void*>(tail), area_end - tail);
    madvise(p, size, MADV_HUGEPAGE);
    return p;
}

} // namespace

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(Status::error, "cannot open " + path + ": " + std::strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        fail(Status::error, "cannot stat " + path + ": " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(Status::error, path + " is not a regular file");
    }
    std::shared_ptr<MappedFile> f(new MappedFile());
    f->path_ = path;
    f->size_ = size_t(st.st_size);
    if (f->size_ > 0) {
        void* p = map_aligned(fd, f->size_);
        if (p == MAP_FAILED) {
            int e = errno;
            ::close(fd);
            fail(Status::error, "cannot map " + path + ": " + std::strerror(e));
        }
        f->data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
    return f;
}

MappedFile::~MappedFile() {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

std::string read_text_file(const std::string& path) {
    auto f = MappedFile::open(path);
    return std::string(reinterpret_cast<const char*>(f->data()), f->size());
}

} // namespace strata
