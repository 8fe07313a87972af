@preconcurrency import CHDF5
import Foundation
#if canImport(Glibc)
import Glibc
import SpikeTensor
#endif

/// A bounded check of a 1-D variable-length dataset's heap references, made on the file's
/// bytes before libhdf5 reads any element (SHD's `spikes/times` and `spikes/units`).
///
/// libhdf5 1.10 trusts the global heap: an element whose heap object index is not in its
/// collection is read from outside the collection, a collection whose objects were zeroed
/// makes it loop, a reference past the end of the file fails only when that element is read.
/// h5py (HDF5 2.0) refuses such files. This check reads the dataset's raw element records
/// (each: 4-byte length, heap collection address, 4-byte object index, little-endian) and
/// every global heap collection they name (`GCOL`, version 1, size ≥ 4096 bytes and inside
/// the file; objects of 16-byte headers and 8-byte-aligned data, each inside its collection,
/// indices unique), and requires every element's object to exist and to hold exactly
/// length × base-type-size bytes. Work and memory are bounded by the file size: each
/// collection is read once, and collections together may not be larger than the file.
///
/// Checked only where the dataset's storage is contiguous (h5py's default for
/// variable-length data); chunked data is left to libhdf5 and the child-process check
/// (`HDF5ChildCheck`). Makes raw HDF5 calls: callers hold the HDF5 lock, or are the
/// checking child process.
enum HDF5VariableLengthCheck {
    /// The smallest global heap collection HDF5 writes (`H5HG_MINSIZE`).
    static let minimumCollectionSize = 4096

    /// Throws `DatasetError.corruptFile` naming the file, `path` and the sample index when a
    /// reference is bad; returns quietly for a sound dataset or a layout it does not check.
    static func check(file: hid_t, dataset: hid_t, path: String, name: String) throws {
        let type = H5Dget_type(dataset)
        guard type >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dget_type") }
        defer { H5Tclose(type) }
        // Variable-length arrays (of `base`) and variable-length strings (of bytes) are stored alike.
        let baseSize: Int
        if H5Tget_class(type) == H5T_VLEN {
            let base = H5Tget_super(type)
            guard base >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Tget_super") }
            baseSize = H5Tget_size(base)
            H5Tclose(base)
        } else if H5Tget_class(type) == H5T_STRING, H5Tis_variable_str(type) > 0 {
            baseSize = 1
        } else {
            return   // fixed-size data has no heap; a wrong type is the reader's to report
        }
        guard baseSize > 0, baseSize <= 16 else {
            throw DatasetError.unsupportedType(file: name, path: path, reason: "elements of \(baseSize) bytes")
        }
        let creation = H5Dget_create_plist(dataset)
        guard creation >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dget_create_plist") }
        let layout = H5Pget_layout(creation)
        H5Pclose(creation)
        guard layout == H5D_CONTIGUOUS else { return }
        let space = H5Dget_space(dataset)
        let count = Int(H5Sget_simple_extent_npoints(space))
        H5Sclose(space)
        let offset = UInt64(H5Dget_offset(dataset))
        guard count > 0, offset != UInt64.max else { return }   // nothing stored: every element reads as empty

        let fileCreation = H5Fget_create_plist(file)
        guard fileCreation >= 0 else { throw DatasetError.hdf5(file: name, path: "/", operation: "H5Fget_create_plist") }
        var addressSize = 0, lengthSize = 0
        var userBlock: hsize_t = 0
        _ = H5Pget_sizes(fileCreation, &addressSize, &lengthSize)
        _ = H5Pget_userblock(fileCreation, &userBlock)
        H5Pclose(fileCreation)
        guard [4, 8].contains(addressSize), [4, 8].contains(lengthSize) else {
            throw DatasetError.unsupportedType(file: name, path: "/", reason: "\(addressSize)-byte addresses, \(lengthSize)-byte lengths")
        }

        let reader = try ByteReader(name: name)
        defer { reader.close() }
        let recordSize = 8 + addressSize
        let (tableSize, tooMany) = UInt64(count).multipliedReportingOverflow(by: UInt64(recordSize))
        guard !tooMany, offset <= UInt64(reader.size), tableSize <= UInt64(reader.size) - offset else {
            throw DatasetError.corruptFile(file: name, path: path, sample: nil,
                                           reason: "\(count) element records at byte \(offset) run past the end of the file (\(reader.size) bytes)")
        }
        let records = try reader.bytes(at: Int(offset), count: count * recordSize, path: path)
        var collections: [UInt64: [UInt32: UInt64]] = [:]   // address → object index → size
        var collectionBytes = 0
        for i in 0..<count {
            let r = i * recordSize
            let length = UInt64(records.littleEndian(at: r, size: 4))
            let address = records.littleEndian(at: r + 4, size: addressSize)
            let index = UInt32(records.littleEndian(at: r + 4 + addressSize, size: 4))
            if address == 0 {   // a null reference: libhdf5 and h5py read it as empty
                guard length == 0 else {
                    throw DatasetError.corruptFile(file: name, path: path, sample: i, reason: "\(length) values but a null heap reference")
                }
                continue
            }
            if collections[address] == nil {
                let objects = try readCollection(reader, at: address, base: UInt64(userBlock), lengthSize: lengthSize,
                                                 spent: &collectionBytes, path: path, sample: i)
                collections[address] = objects
            }
            guard let size = collections[address]?[index] else {
                throw DatasetError.corruptFile(file: name, path: path, sample: i,
                                               reason: "heap object \(index) is not in the heap collection at byte \(UInt64(userBlock) + address)")
            }
            guard size == length * UInt64(baseSize) else {
                throw DatasetError.corruptFile(file: name, path: path, sample: i,
                                               reason: "\(length) values of \(baseSize) bytes, but its heap object \(index) holds \(size) bytes")
            }
        }
    }

    /// The objects (index → size in bytes) of the global heap collection at `address`.
    private static func readCollection(_ reader: ByteReader, at address: UInt64, base: UInt64, lengthSize: Int,
                                       spent: inout Int, path: String, sample: Int) throws -> [UInt32: UInt64] {
        let name = reader.name
        func corrupt(_ reason: String) -> DatasetError {
            .corruptFile(file: name, path: path, sample: sample, reason: reason)
        }
        let headerSize = 16   // "GCOL", version, 3 reserved, collection size; aligned to 8
        let (start, overflow) = base.addingReportingOverflow(address)
        guard !overflow, start <= UInt64(reader.size), UInt64(reader.size) - start >= UInt64(headerSize) else {
            throw corrupt("its heap collection address \(address) is past the end of the file (\(reader.size) bytes)")
        }
        let header = try reader.bytes(at: Int(start), count: headerSize, path: path)
        guard Array(header[0..<4]) == Array("GCOL".utf8), header[4] == 1 else {
            throw corrupt("no heap collection (GCOL, version 1) at byte \(start)")
        }
        let size = header.littleEndian(at: 8, size: lengthSize)
        guard size >= UInt64(minimumCollectionSize), size <= UInt64(reader.size) - start else {
            throw corrupt("the heap collection at byte \(start) claims \(size) bytes (at least \(minimumCollectionSize), "
                          + "at most the \(UInt64(reader.size) - start) left in the file)")
        }
        spent += Int(size)
        guard spent <= reader.size else {
            throw corrupt("the heap collections its elements name overlap (together larger than the file)")
        }
        let bytes = try reader.bytes(at: Int(start), count: Int(size), path: path)
        let objectHeader = 16   // index, references, reserved, size (4 or 8 bytes); aligned to 8
        var objects: [UInt32: UInt64] = [:]
        var p = headerSize
        while bytes.count - p >= objectHeader {
            let index = UInt32(bytes.littleEndian(at: p, size: 2))
            if index == 0 { break }   // the free space: the rest of the collection
            let objectSize = bytes.littleEndian(at: p + 8, size: lengthSize)
            let room = UInt64(bytes.count - p - objectHeader)
            guard objectSize <= room, (objectSize + 7) / 8 * 8 <= room else {
                throw corrupt("heap object \(index) at byte \(start + UInt64(p)) claims \(objectSize) bytes, more than its collection holds")
            }
            guard objects.updateValue(objectSize, forKey: index) == nil else {
                throw corrupt("heap object \(index) appears twice in the collection at byte \(start)")
            }
            p += objectHeader + Int((objectSize + 7) / 8 * 8)
        }
        return objects
    }

    /// `pread` on the file, bounded by its size.
    private final class ByteReader {
        let name: String, fd: Int32, size: Int
        init(name: String) throws {
            self.name = name
            fd = Glibc.open(name, O_RDONLY)
            guard fd >= 0 else { throw DatasetError.io(file: name, reason: _errnoText()) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { let text = _errnoText(); Glibc.close(fd); throw DatasetError.io(file: name, reason: text) }
            size = Int(info.st_size)
        }
        func close() { Glibc.close(fd) }
        func bytes(at offset: Int, count: Int, path: String) throws -> [UInt8] {
            var failure: String?
            let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialised in
                var done = 0
                while done < count {
                    let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                    if n < 0 { if errno == EINTR { continue }; failure = _errnoText(); break }
                    if n == 0 { failure = "file ends at byte \(offset + done), reading \(path)"; break }
                    done += n
                }
                initialised = done
            }
            if let failure { throw DatasetError.io(file: name, reason: failure) }
            return out
        }
    }
}

private extension Array where Element == UInt8 {
    /// The little-endian unsigned integer of `size` (1…8) bytes at `offset`; callers check bounds.
    func littleEndian(at offset: Int, size: Int) -> UInt64 {
        var value: UInt64 = 0
        for k in 0..<size { value |= UInt64(self[offset + k]) << (8 * k) }
        return value
    }
}
